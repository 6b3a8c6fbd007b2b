#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The `nats://` URL parser and the subject and stream-name checks take untrusted text (flags,
//! config): they never panic, and what they accept is what NATS accepts.
use prodlike_capture::nats::{NatsUrl, check_stream_name, check_subject, default_stream};
use proptest::prelude::*;

proptest! {
    #[test]
    fn parsing_arbitrary_text_never_panics(text in ".{0,80}") {
        let _ = NatsUrl::parse(&text);
        let _ = NatsUrl::parse(&format!("nats://{text}"));
        let _ = check_subject(&text);
        let _ = check_stream_name(&text);
    }

    #[test]
    fn accepted_urls_print_back_as_parsed(
        host in "[a-z][a-z0-9.-]{0,20}",
        port in 1u16..,
        subject in "[a-z0-9_-]{1,8}(\\.[a-z0-9_-]{1,8}){0,4}",
    ) {
        let url = format!("nats://{host}:{port}/{subject}");
        let parsed = NatsUrl::parse(&url).unwrap();
        prop_assert_eq!(parsed.to_string(), url);
        prop_assert_eq!(parsed.subject().unwrap(), subject.as_str());
        // The default stream of any valid subject is a valid stream name.
        prop_assert!(check_stream_name(&default_stream(&subject)).is_ok());
    }

    #[test]
    fn credentials_never_survive_into_the_error(user in "[a-z]{1,8}", pw in "[a-z]{6,12}") {
        let e = NatsUrl::parse(&format!("nats://{user}:{pw}@h:4222/s")).unwrap_err();
        prop_assert!(!e.to_string().contains(&pw));
    }
}
