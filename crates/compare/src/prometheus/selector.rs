//! How one environment is selected: label matchers (`environment="production"`) added to every
//! metric of every query, or — for OpenTelemetry's resource attributes, which often live only on
//! `target_info` — applied to an info metric and joined on its identifying labels
//! (`… and on(job, instance) last_over_time(target_info{deployment_environment_name="production"}[…])`).
use crate::error::CompareError;
use crate::spec::Selection;

/// One environment's selection.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    /// The matchers as given, for messages.
    pub shown: String,
    /// The matchers without braces.
    matchers: String,
    join: Option<(String, Vec<String>)>,
}

impl Selector {
    pub fn new(
        flag: &'static str,
        matchers: &str,
        selection: &Selection,
    ) -> Result<Selector, CompareError> {
        let m = matchers.trim();
        let m = m
            .strip_prefix('{')
            .and_then(|m| m.strip_suffix('}'))
            .unwrap_or(m)
            .trim();
        if m.is_empty() {
            return Err(CompareError::Flag {
                flag,
                problem: "give label matchers that select this environment, such as \
                          'environment=\"production\"'"
                    .into(),
            });
        }
        if m.contains(['{', '}']) {
            return Err(CompareError::Flag {
                flag,
                problem: format!("`{matchers}`: give label matchers only, without a metric name"),
            });
        }
        Ok(Selector {
            shown: matchers.trim().to_string(),
            matchers: m.to_string(),
            join: selection
                .join
                .as_ref()
                .map(|j| (j.clone(), selection.on.clone())),
        })
    }

    /// The info metric joined on, when selecting by join.
    pub fn join(&self) -> Option<&str> {
        self.join.as_ref().map(|(m, _)| m.as_str())
    }

    /// `func(metric{matchers, extra}[range])`, restricted to this environment.
    pub fn vector(&self, func: &str, metric: &str, extra: &str, range: &str) -> String {
        match &self.join {
            None => format!(
                "{func}({metric}{{{}}}{range})",
                join_matchers(&self.matchers, extra)
            ),
            Some((info, on)) => format!(
                "({func}({metric}{{{extra}}}{range}) and on({}) last_over_time({info}{{{}}}{range}))",
                on.join(", "),
                self.matchers
            ),
        }
    }

    /// The series selector for `/api/v1/series` of metrics named by `names` (a regex): the
    /// environment's matchers included unless it is selected by join (then see
    /// [`Selector::info_series`] and [`Selector::keeps`]).
    pub fn series(&self, names: &str) -> String {
        match &self.join {
            None => format!("{{__name__=~\"{names}\", {}}}", self.matchers),
            Some(_) => format!("{{__name__=~\"{names}\"}}"),
        }
    }

    /// The info metric's series selector, when selecting by join.
    pub fn info_series(&self) -> Option<String> {
        self.join
            .as_ref()
            .map(|(info, _)| format!("{info}{{{}}}", self.matchers))
    }

    /// The join's key of one series' labels.
    pub fn join_key(&self, labels: &std::collections::BTreeMap<String, String>) -> Vec<String> {
        match &self.join {
            None => Vec::new(),
            Some((_, on)) => on
                .iter()
                .map(|l| labels.get(l).cloned().unwrap_or_default())
                .collect(),
        }
    }

    /// Label names the matchers use (left out of the label-key parity check: the environments
    /// are told apart by them).
    pub fn matcher_labels(&self) -> Vec<String> {
        self.matchers
            .split(',')
            .filter_map(|m| {
                let name: String = m
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                (!name.is_empty()).then_some(name)
            })
            .collect()
    }
}

fn join_matchers(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (_, true) => a.to_string(),
        (true, false) => b.to_string(),
        _ => format!("{a}, {b}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchers_go_into_every_metric_or_into_the_join() {
        let s = Selector::new("--production", "{env=\"prod\"}", &Selection::default()).unwrap();
        assert_eq!(
            s.vector("increase", "m_count", "code=~\"5..\"", "[1h]"),
            "increase(m_count{env=\"prod\", code=~\"5..\"}[1h])"
        );
        let join = Selection {
            join: Some("target_info".into()),
            ..Selection::default()
        };
        let s = Selector::new("--production", "deployment_environment_name=\"p\"", &join).unwrap();
        assert_eq!(
            s.vector("increase", "m_count", "", "[60s]"),
            "(increase(m_count{}[60s]) and on(job, instance) \
             last_over_time(target_info{deployment_environment_name=\"p\"}[60s]))"
        );
        assert!(Selector::new("--staging", " ", &Selection::default()).is_err());
        assert_eq!(s.matcher_labels(), vec!["deployment_environment_name"]);
    }
}
