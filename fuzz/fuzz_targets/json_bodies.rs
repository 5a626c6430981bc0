//! The JSON bodies of the app API and the webhooks API, deserialized into the request
//! types the server uses (`nod_core::requests`), then checked as the service checks them:
//! typed phone numbers and activation codes, answers to a sales unit's consent questions,
//! webhook registrations, reject reasons and test outcomes. An empty body counts as `{}`,
//! as the app API's extractor reads it.
//!
//! Checks: nothing panics; accepted consent answers answer every question once and
//! accept every required one; an accepted webhook registration has 1 or more distinct
//! events and an absolute http(s) URL with a host, no fragment and no credentials, and
//! every refused one says why; problem descriptions stay short whatever the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nod_core::login::check_delegated_answers;
use nod_core::requests::{
    ApproveRequest, OpenRequest, OutcomeRequest, RegisterDeviceRequest, RegisterWebhookRequest,
    RejectRequest,
};
use nod_core::sales_unit::{ConsentLinks, ConsentQuestion, ConsentTexts};
use nod_core::{crypto, msisdn, scenario, webhook};

fn texts() -> ConsentTexts {
    let question = |id: &str, required| ConsentQuestion {
        id: id.into(),
        required,
        text_displayed_to_user: "?".into(),
    };
    ConsentTexts {
        language: "en".into(),
        heading: "h".into(),
        text: "t".into(),
        terms_description: "d".into(),
        confirm_consent_button_text: "ok".into(),
        links: ConsentLinks {
            terms_link_text: "terms".into(),
            terms_link_url: "https://shop.example/terms".into(),
            privacy_statement_link_text: "privacy".into(),
            privacy_statement_link_url: "https://shop.example/privacy".into(),
        },
        consents: vec![question("terms", true), question("news", false)],
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let body: &[u8] = if body.is_empty() { b"{}" } else { body };
    match which % 6 {
        0 => {
            let Ok(request) = serde_json::from_slice::<RegisterDeviceRequest>(body) else {
                return;
            };
            if let Some(number) = request.phone_number.as_deref().and_then(msisdn::normalize) {
                assert!(msisdn::is_valid(&number));
            }
            if let Some(code) = request
                .activation_code
                .as_deref()
                .and_then(crypto::normalize_activation_code)
            {
                assert_eq!(code.len(), 12);
            }
        }
        1 => {
            let _ = serde_json::from_slice::<OpenRequest>(body);
        }
        2 => {
            let Ok(request) = serde_json::from_slice::<ApproveRequest>(body) else {
                return;
            };
            let texts = texts();
            if let Some(answers) = &request.delegated_consents {
                match check_delegated_answers(&texts, answers) {
                    Ok(checked) => {
                        assert_eq!(checked.len(), texts.consents.len());
                        for question in &texts.consents {
                            let answer = checked.iter().filter(|a| a.id == question.id);
                            assert_eq!(answer.clone().count(), 1);
                            if question.required {
                                assert!(answer.clone().all(|a| a.accepted));
                            }
                        }
                    }
                    Err(e) => assert!(e.description.len() <= 200, "{}", e.description),
                }
            }
        }
        3 => {
            let Ok(request) = serde_json::from_slice::<RejectRequest>(body) else {
                return;
            };
            let _ = request.reason;
        }
        4 => {
            let Ok(request) = serde_json::from_slice::<OutcomeRequest>(body) else {
                return;
            };
            if let Some(outcome) = request
                .outcome
                .as_deref()
                .and_then(scenario::Outcome::parse)
            {
                assert_eq!(scenario::Outcome::parse(outcome.as_str()), Some(outcome));
            }
        }
        _ => {
            let Ok(request) = serde_json::from_slice::<RegisterWebhookRequest>(body) else {
                return;
            };
            match webhook::validate_registration(&request.url, &request.events) {
                Ok(events) => {
                    assert!(!events.is_empty() && events.len() <= request.events.len());
                    for (i, e) in events.iter().enumerate() {
                        assert!(!events[..i].contains(e));
                    }
                    let url = url::Url::parse(&request.url).expect("accepted URL parses");
                    assert!(matches!(url.scheme(), "http" | "https"));
                    assert!(url.host_str().is_some_and(|h| !h.is_empty()));
                    assert!(url.fragment().is_none() && url.username().is_empty());
                    assert!(url.password().is_none());
                }
                Err(problems) => {
                    assert!(!problems.is_empty());
                    for p in &problems {
                        assert!(!p.reason.is_empty());
                        assert!(p.reason.len() <= 1000, "{} bytes", p.reason.len());
                    }
                }
            }
        }
    }
});
