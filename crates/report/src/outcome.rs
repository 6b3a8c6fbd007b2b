use serde::{Deserialize, Serialize};

/// How a command ended, mapped onto the process exit code every prodlike command shares:
/// 0 success, 1 a finding (drift, threshold breached, divergence), 2 usage or input error,
/// 3 inconclusive (nothing was found, but something could not be decided: too few samples,
/// nothing compared). See ../shared/DECISIONS.md, "Outcomes and exit codes".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The command ran and found nothing to report.
    Success,
    /// The command ran and found something the user asked to be told about.
    Finding,
    /// The command could not run: bad usage, bad input, unreachable endpoint.
    Error,
    /// The command ran and found nothing, but could not decide everything it was asked: never
    /// read as a pass.
    Inconclusive,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Finding => 1,
            Outcome::Error => 2,
            Outcome::Inconclusive => 3,
        }
    }

    /// The exit code when inconclusive results are accepted (`--allow-inconclusive`): 3 becomes 0.
    pub fn exit_code_allowing_inconclusive(self) -> u8 {
        match self {
            Outcome::Inconclusive => 0,
            other => other.exit_code(),
        }
    }

    /// How bad an outcome is: an error outranks a finding, which outranks an inconclusive
    /// result, which outranks success.
    fn severity(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Inconclusive => 1,
            Outcome::Finding => 2,
            Outcome::Error => 3,
        }
    }

    /// The worse of two outcomes, for commands that run several checks.
    pub fn worst(self, other: Outcome) -> Outcome {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_convention() {
        assert_eq!(Outcome::Success.exit_code(), 0);
        assert_eq!(Outcome::Finding.exit_code(), 1);
        assert_eq!(Outcome::Error.exit_code(), 2);
        assert_eq!(Outcome::Inconclusive.exit_code(), 3);
        assert_eq!(Outcome::Inconclusive.exit_code_allowing_inconclusive(), 0);
        assert_eq!(Outcome::Finding.exit_code_allowing_inconclusive(), 1);
    }

    #[test]
    fn a_finding_wins_over_inconclusive_and_an_error_over_both() {
        use Outcome::*;
        let all = [Success, Inconclusive, Finding, Error];
        for (i, a) in all.iter().enumerate() {
            for (j, b) in all.iter().enumerate() {
                let expected = all[i.max(j)];
                assert_eq!(a.worst(*b), expected, "{a:?} vs {b:?}");
            }
        }
        assert_eq!(Inconclusive.worst(Finding), Finding);
        assert_eq!(Success.worst(Inconclusive), Inconclusive);
    }
}
