//! Word lists per locale, borrowed from the `fake` crate's locale data.
//!
//! The lists are read directly (not through `fake`'s RNG-driven generators) so that a value is
//! chosen by a keyed hash of the input: deterministic, allocation-free and fast. Outputs stay
//! stable as long as the `fake` version in `Cargo.lock` does not change its lists.

use fake::locales::{
    AR_SA, CY_GB, DE_DE, Data, EN, FA_IR, FR_FR, IT_IT, JA_JP, NL_NL, PT_BR, PT_PT, TR_TR, ZH_CN,
    ZH_TW,
};
use serde::{Deserialize, Serialize};

/// Locale of generated names, streets, cities and companies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Locale {
    #[default]
    #[serde(
        rename = "en",
        alias = "EN",
        alias = "en_US",
        alias = "en-US",
        alias = "en_us"
    )]
    En,
    #[serde(rename = "fr_FR", alias = "fr", alias = "fr_fr", alias = "fr-FR")]
    FrFr,
    #[serde(rename = "de_DE", alias = "de", alias = "de_de", alias = "de-DE")]
    DeDe,
    #[serde(rename = "it_IT", alias = "it", alias = "it_it", alias = "it-IT")]
    ItIt,
    #[serde(rename = "nl_NL", alias = "nl", alias = "nl_nl", alias = "nl-NL")]
    NlNl,
    #[serde(rename = "pt_BR", alias = "pt_br", alias = "pt-BR")]
    PtBr,
    #[serde(rename = "pt_PT", alias = "pt", alias = "pt_pt", alias = "pt-PT")]
    PtPt,
    #[serde(rename = "ja_JP", alias = "ja", alias = "ja_jp", alias = "ja-JP")]
    JaJp,
    #[serde(rename = "zh_CN", alias = "zh", alias = "zh_cn", alias = "zh-CN")]
    ZhCn,
    #[serde(rename = "zh_TW", alias = "zh_tw", alias = "zh-TW")]
    ZhTw,
    #[serde(rename = "ar_SA", alias = "ar", alias = "ar_sa", alias = "ar-SA")]
    ArSa,
    #[serde(rename = "tr_TR", alias = "tr", alias = "tr_tr", alias = "tr-TR")]
    TrTr,
    #[serde(rename = "fa_IR", alias = "fa", alias = "fa_ir", alias = "fa-IR")]
    FaIr,
    #[serde(rename = "cy_GB", alias = "cy", alias = "cy_gb", alias = "cy-GB")]
    CyGb,
}

/// The lists one locale contributes.
pub(crate) struct Words {
    pub first: &'static [&'static str],
    pub last: &'static [&'static str],
    pub street_suffix: &'static [&'static str],
    pub street_tpl: &'static str,
    pub city_prefix: &'static [&'static str],
    pub city_suffix: &'static [&'static str],
    pub city_tpl: &'static str,
    pub company_suffix: &'static [&'static str],
    pub company_tpls: &'static [&'static str],
    /// Whether names are written without spaces (`{LastName}{FirstName}`), as in Chinese.
    pub name_tpl: &'static str,
}

const fn words<L: Data>() -> Words {
    Words {
        first: L::NAME_FIRST_NAME,
        last: L::NAME_LAST_NAME,
        street_suffix: L::ADDRESS_STREET_SUFFIX,
        street_tpl: L::ADDRESS_STREET_TPL,
        city_prefix: L::ADDRESS_CITY_PREFIX,
        city_suffix: L::ADDRESS_CITY_SUFFIX,
        city_tpl: L::ADDRESS_CITY_TPL,
        company_suffix: L::COMPANY_SUFFIX,
        company_tpls: L::COMPANY_NAME_TPLS,
        name_tpl: L::NAME_TPL,
    }
}

static W_EN: Words = words::<EN>();
static W_FR_FR: Words = words::<FR_FR>();
static W_DE_DE: Words = words::<DE_DE>();
static W_IT_IT: Words = words::<IT_IT>();
static W_NL_NL: Words = words::<NL_NL>();
static W_PT_BR: Words = words::<PT_BR>();
static W_PT_PT: Words = words::<PT_PT>();
static W_JA_JP: Words = words::<JA_JP>();
static W_ZH_CN: Words = words::<ZH_CN>();
static W_ZH_TW: Words = words::<ZH_TW>();
static W_AR_SA: Words = words::<AR_SA>();
static W_TR_TR: Words = words::<TR_TR>();
static W_FA_IR: Words = words::<FA_IR>();
static W_CY_GB: Words = words::<CY_GB>();

impl Locale {
    pub(crate) fn words(self) -> &'static Words {
        match self {
            Locale::En => &W_EN,
            Locale::FrFr => &W_FR_FR,
            Locale::DeDe => &W_DE_DE,
            Locale::ItIt => &W_IT_IT,
            Locale::NlNl => &W_NL_NL,
            Locale::PtBr => &W_PT_BR,
            Locale::PtPt => &W_PT_PT,
            Locale::JaJp => &W_JA_JP,
            Locale::ZhCn => &W_ZH_CN,
            Locale::ZhTw => &W_ZH_TW,
            Locale::ArSa => &W_AR_SA,
            Locale::TrTr => &W_TR_TR,
            Locale::FaIr => &W_FA_IR,
            Locale::CyGb => &W_CY_GB,
        }
    }

    /// Every locale, for tests and docs.
    pub const ALL: [Locale; 14] = [
        Locale::En,
        Locale::FrFr,
        Locale::DeDe,
        Locale::ItIt,
        Locale::NlNl,
        Locale::PtBr,
        Locale::PtPt,
        Locale::JaJp,
        Locale::ZhCn,
        Locale::ZhTw,
        Locale::ArSa,
        Locale::TrTr,
        Locale::FaIr,
        Locale::CyGb,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_locale_has_non_empty_lists() {
        for l in Locale::ALL {
            let w = l.words();
            assert!(!w.first.is_empty(), "{l:?} first");
            assert!(!w.last.is_empty(), "{l:?} last");
            assert!(!w.street_suffix.is_empty(), "{l:?} street");
            assert!(!w.city_suffix.is_empty(), "{l:?} city");
            assert!(!w.company_suffix.is_empty(), "{l:?} company");
            assert!(!w.company_tpls.is_empty(), "{l:?} company tpl");
        }
    }
}
