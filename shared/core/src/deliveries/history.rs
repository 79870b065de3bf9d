//! What the delivery history keeps ([`History`], `WEBHOOKS_HISTORY`): every delivery, or
//! only those that needed more than one attempt or failed. On DynamoDB a delivery's item and
//! its tenant-wide listing entry are two of the five write units a delivery costs; most
//! deliveries succeed at their first attempt, and `failures` writes nothing for those (they
//! are still counted in the endpoint's stats and the metrics, and logged).

/// Which deliveries are written to the history.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum History {
    /// Every delivery, whatever became of it (the default).
    #[default]
    All,
    /// Not a delivery that succeeded at its first attempt; every other one, from its first
    /// failed attempt on, with all its attempts.
    Failures,
}

impl History {
    pub fn as_str(self) -> &'static str {
        match self {
            History::All => "all",
            History::Failures => "failures",
        }
    }

    /// `all` or `failures`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "all" => Ok(History::All),
            "failures" => Ok(History::Failures),
            _ => Err("must be all or failures".into()),
        }
    }

    /// Whether a delivery just delivered is written: `first_attempt` says this was the
    /// delivery's first attempt and nothing of it is stored yet (not a manual resend).
    pub fn keeps_delivered(self, first_attempt: bool) -> bool {
        self == History::All || !first_attempt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_skips_only_a_first_attempt_that_delivered() {
        assert!(History::All.keeps_delivered(true));
        assert!(History::All.keeps_delivered(false));
        assert!(!History::Failures.keeps_delivered(true));
        assert!(History::Failures.keeps_delivered(false));
    }

    #[test]
    fn parses_its_two_names_only() {
        assert_eq!(History::parse("all"), Ok(History::All));
        assert_eq!(History::parse("failures"), Ok(History::Failures));
        assert!(History::parse("none").is_err());
        assert!(History::parse("Failures").is_err());
        for history in [History::All, History::Failures] {
            assert_eq!(History::parse(history.as_str()), Ok(history));
        }
    }
}
