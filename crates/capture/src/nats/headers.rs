//! The capture's metadata as NATS message headers. A stream has no file header, so every
//! message carries the format, its version and how it was masked (the rules' digest and the
//! key's fingerprint, never the key), and the first message of each connection is a `header`
//! record with the same facts in the file format's own shape.
use async_nats::HeaderMap;

use crate::record::{FORMAT, Header, VERSION};

/// `prodlike-capture`.
pub const FORMAT_HEADER: &str = "Prodlike-Capture-Format";
/// The format version of the record (`2`).
pub const VERSION_HEADER: &str = "Prodlike-Capture-Version";
/// `header` or `exchange`: which record the message holds.
pub const RECORD_HEADER: &str = "Prodlike-Record";
/// `true` when every record of the capture is masked (detection on).
pub const MASKED_HEADER: &str = "Prodlike-Masked";
/// `true` or `false`: PII detection on.
pub const DETECT_HEADER: &str = "Prodlike-Mask-Detect";
/// Digest of the masking rules.
pub const RULES_DIGEST_HEADER: &str = "Prodlike-Mask-Rules-Digest";
/// Fingerprint of the mask key (absent when nothing was masked).
pub const KEY_FINGERPRINT_HEADER: &str = "Prodlike-Mask-Key-Fingerprint";

/// The headers every message of a capture carries; `record` is `header` or `exchange`.
pub fn metadata(header: &Header, record: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(FORMAT_HEADER, FORMAT);
    h.insert(VERSION_HEADER, VERSION.to_string().as_str());
    h.insert(RECORD_HEADER, record);
    h.insert(MASKED_HEADER, if header.masked { "true" } else { "false" });
    if let Some(m) = &header.mask {
        h.insert(DETECT_HEADER, if m.detect { "true" } else { "false" });
        h.insert(RULES_DIGEST_HEADER, m.rules_digest.as_str());
        if let Some(fp) = &m.key_fingerprint {
            h.insert(KEY_FINGERPRINT_HEADER, fp.as_str());
        }
    }
    h
}

/// What a message's headers say of its format: `Err` with the reason when a reader must stop
/// (another format, a newer version); `Ok` when they are ours or absent (the payload decides).
pub fn check(headers: Option<&HeaderMap>) -> Result<(), HeaderProblem> {
    let Some(h) = headers else {
        return Ok(());
    };
    if let Some(f) = h.get(FORMAT_HEADER)
        && f.as_str() != FORMAT
    {
        return Err(HeaderProblem::WrongFormat(f.as_str().to_string()));
    }
    if let Some(v) = h.get(VERSION_HEADER) {
        match v.as_str().parse::<u32>() {
            Ok(n) if n > VERSION => return Err(HeaderProblem::NewerVersion(n)),
            Ok(_) => {}
            Err(_) => return Err(HeaderProblem::BadVersion(v.as_str().to_string())),
        }
    }
    Ok(())
}

/// A message's headers refuse it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderProblem {
    WrongFormat(String),
    NewerVersion(u32),
    BadVersion(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::MaskSummary;

    #[test]
    fn metadata_round_trips_through_check() {
        let header = Header::new(
            "test",
            "2026-12-04T10:00:00Z",
            true,
            Some(MaskSummary {
                detect: true,
                rules_digest: "0123456789abcdef".into(),
                key_fingerprint: Some("8c1e".into()),
                key_source: Some("env".into()),
            }),
        );
        let h = metadata(&header, "exchange");
        assert_eq!(h.get(MASKED_HEADER).unwrap().as_str(), "true");
        assert_eq!(h.get(KEY_FINGERPRINT_HEADER).unwrap().as_str(), "8c1e");
        assert_eq!(check(Some(&h)), Ok(()));
        let mut newer = h.clone();
        newer.insert(VERSION_HEADER, "99");
        assert_eq!(check(Some(&newer)), Err(HeaderProblem::NewerVersion(99)));
        let mut other = h;
        other.insert(FORMAT_HEADER, "something-else");
        assert!(matches!(
            check(Some(&other)),
            Err(HeaderProblem::WrongFormat(_))
        ));
        assert_eq!(check(None), Ok(()));
    }
}
