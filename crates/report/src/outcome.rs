use serde::{Deserialize, Serialize};

/// How a command ended, mapped onto the process exit code every prodlike command shares:
/// 0 success, 1 a finding (drift, threshold breached, divergence), 2 usage or input error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The command ran and found nothing to report.
    Success,
    /// The command ran and found something the user asked to be told about.
    Finding,
    /// The command could not run: bad usage, bad input, unreachable endpoint.
    Error,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Finding => 1,
            Outcome::Error => 2,
        }
    }

    /// The worse of two outcomes, for commands that run several checks.
    pub fn worst(self, other: Outcome) -> Outcome {
        if other.exit_code() > self.exit_code() {
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
        assert_eq!(Outcome::Success.worst(Outcome::Finding), Outcome::Finding);
        assert_eq!(Outcome::Error.worst(Outcome::Finding), Outcome::Error);
    }
}
