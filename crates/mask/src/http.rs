//! The masking section of an HTTP component's config (used by `prodlike shadow`).

use serde::{Deserialize, Serialize};

use crate::engine::Masker;
use crate::json::{BodyError, BodyMask, JsonMasker, JsonRule};
use crate::query::{QueryMasker, QueryRule};
use crate::transform::TransformError;

/// Rules for masking HTTP traffic, to embed in a config file:
///
/// ```toml
/// [mask]
/// [[mask.json]]
/// key = "email"
/// transform = "email"
/// [[mask.json]]
/// path = "/payment/card"
/// transform = { type = "card", keep_bin = true }
/// [[mask.query]]
/// param = "token"
/// transform = { type = "hash", length = 24 }
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpMaskRules {
    /// Rules for JSON request and response bodies.
    pub json: Vec<JsonRule>,
    /// Rules for query-string parameters.
    pub query: Vec<QueryRule>,
}

impl HttpMaskRules {
    /// Checks every rule; error fields look like `json[1].transform.length` (prefix them with
    /// the section name via [`TransformError::at`], e.g. `mask`).
    pub fn validate(&self) -> Result<(), TransformError> {
        for (i, r) in self.json.iter().enumerate() {
            r.validate().map_err(|e| e.at(&format!("json[{i}]")))?;
        }
        for (i, r) in self.query.iter().enumerate() {
            r.validate().map_err(|e| e.at(&format!("query[{i}]")))?;
        }
        Ok(())
    }

    /// Compiles the rules with `masker`'s key.
    pub fn compile(&self, masker: &Masker) -> Result<HttpMasker, TransformError> {
        Ok(HttpMasker {
            json: JsonMasker::new(masker, &self.json).map_err(|e| e.at("json"))?,
            query: QueryMasker::new(masker, &self.query).map_err(|e| e.at("query"))?,
        })
    }
}

/// Compiled HTTP masking rules. Cheap to clone, `Send + Sync`.
#[derive(Debug, Clone)]
pub struct HttpMasker {
    /// Masks JSON bodies.
    pub json: JsonMasker,
    /// Masks query strings.
    pub query: QueryMasker,
}

impl HttpMasker {
    /// Shorthand for `self.json.mask_body(body)`.
    pub fn mask_json_body(&self, body: &[u8]) -> Result<BodyMask, BodyError> {
        self.json.mask_body(body)
    }

    /// Shorthand for `self.query.mask(query)`.
    pub fn mask_query<'a>(&self, query: &'a str) -> std::borrow::Cow<'a, str> {
        self.query.mask(query)
    }
}
