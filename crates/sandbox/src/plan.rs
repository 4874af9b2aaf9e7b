//! A fault flattened into the decisions the request path takes, in the order it takes them.

use std::time::Duration;

use super::fault::Fault;

/// What happens instead of (or before) the normal answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Answer,
    Status(u16),
    Reset,
    Silence,
    /// Process the request, then answer nothing.
    AnsweredSilence,
    /// Process the request, then drop the connection.
    AnsweredReset,
}

/// Replaces the normal body with a hostile one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyFault {
    Malformed,
    Truncated,
    Oversized(u64),
    Deep(u32),
    NonUtf8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EncodingFault {
    Gzip,
    Deflate,
    Br,
    Bogus,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    Normal,
    ResetMidBody,
    Slow(Duration),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    pub delay: Option<Duration>,
    pub outcome: Outcome,
    pub body: Option<BodyFault>,
    pub encoding: Option<EncodingFault>,
    pub wrong_content_type: bool,
    pub cache_control: Option<&'static str>,
    pub delivery: Delivery,
}

impl Plan {
    pub(crate) const NONE: Plan = Plan {
        delay: None,
        outcome: Outcome::Answer,
        body: None,
        encoding: None,
        wrong_content_type: false,
        cache_control: None,
        delivery: Delivery::Normal,
    };

    pub(crate) fn from_fault(fault: Option<&Fault>) -> Plan {
        let mut plan = Plan::NONE;
        if let Some(fault) = fault {
            plan.add(fault);
        }
        plan
    }

    fn add(&mut self, fault: &Fault) {
        match fault {
            Fault::Delay(d) => self.delay = Some(*d),
            Fault::Status(code) => self.outcome = Outcome::Status(*code),
            Fault::Reset => self.outcome = Outcome::Reset,
            Fault::Silence => self.outcome = Outcome::Silence,
            Fault::CreatedSilence => self.outcome = Outcome::AnsweredSilence,
            Fault::CreatedReset => self.outcome = Outcome::AnsweredReset,
            Fault::ResetMidBody => self.delivery = Delivery::ResetMidBody,
            Fault::SlowBody(d) => self.delivery = Delivery::Slow(*d),
            Fault::MalformedJson => self.body = Some(BodyFault::Malformed),
            Fault::TruncatedJson => self.body = Some(BodyFault::Truncated),
            Fault::Oversized(size) => self.body = Some(BodyFault::Oversized(*size)),
            Fault::Deep(depth) => self.body = Some(BodyFault::Deep(*depth)),
            Fault::NonUtf8 => self.body = Some(BodyFault::NonUtf8),
            Fault::Gzip => self.encoding = Some(EncodingFault::Gzip),
            Fault::Deflate => self.encoding = Some(EncodingFault::Deflate),
            Fault::Br => self.encoding = Some(EncodingFault::Br),
            Fault::BogusEncoding => self.encoding = Some(EncodingFault::Bogus),
            Fault::WrongContentType => self.wrong_content_type = true,
            Fault::NoStore => self.cache_control = Some("no-store"),
            Fault::Private => self.cache_control = Some("private"),
            Fault::Combined(all) => all.iter().for_each(|f| self.add(f)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_faults_fill_independent_slots() {
        let fault: Fault = "delay=200ms,status=503,gzip,no_store,slow_body=1s"
            .parse()
            .expect("valid spec");
        let plan = Plan::from_fault(Some(&fault));
        assert_eq!(plan.delay, Some(Duration::from_millis(200)));
        assert_eq!(plan.outcome, Outcome::Status(503));
        assert_eq!(plan.encoding, Some(EncodingFault::Gzip));
        assert_eq!(plan.cache_control, Some("no-store"));
        assert_eq!(plan.delivery, Delivery::Slow(Duration::from_secs(1)));
        assert_eq!(plan.body, None);
    }

    #[test]
    fn later_entries_override_earlier_ones() {
        let fault: Fault = "no_store,private,gzip,br".parse().expect("valid spec");
        let plan = Plan::from_fault(Some(&fault));
        assert_eq!(plan.cache_control, Some("private"));
        assert_eq!(plan.encoding, Some(EncodingFault::Br));
    }
}
