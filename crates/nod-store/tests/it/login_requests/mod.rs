//! Login requests: every move happens only from its documented state, only before the
//! request expires (where the move is given the time), and stores what comes with it
//! only when it wins.

mod ciba;
mod expire;
mod races;

use nod_core::ErrorCode;
use nod_core::grant::Redemption;
use nod_core::login::{Amr, DelegatedAnswer, Status};
use nod_store::{Completion, Confirmation};
use uuid::Uuid;

use crate::support::{
    CLIENT, Fixture, LIFETIME, NOW, audit, auth_code, browser, browser_request, confirmation,
    dispatch, each, scopes,
};

#[tokio::test]
async fn a_created_request_reads_back_as_given() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let request = f.new_request().await;
        assert_eq!(
            store.get_login_request(request.id).await.unwrap(),
            Some(request)
        );
        assert_eq!(store.get_login_request(Uuid::new_v4()).await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn send_moves_a_new_request_to_waiting_with_the_number_and_the_choices() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let request = f.new_request().await;
        let d = dispatch(b"phone", 5, Some(f.user.id));
        assert!(store.send_login_request(request.id, &d).await.unwrap());
        let sent = f.get(request.id).await;
        assert_eq!(sent.status, Status::Waiting);
        assert_eq!(sent.user_id, Some(f.user.id));
        assert_eq!(sent.challenge, Some(42));
        assert_eq!(sent.choices, Some([17, 42, 88]));
        assert!(sent.remember_browser);

        assert!(
            !store.send_login_request(request.id, &d).await.unwrap(),
            "only a new request is sent"
        );
        assert!(
            !store.send_login_request(Uuid::new_v4(), &d).await.unwrap(),
            "no such request"
        );

        // An unknown number: the request waits for nobody.
        let anonymous = f.new_request().await;
        let d = dispatch(b"unknown", 5, None);
        assert!(store.send_login_request(anonymous.id, &d).await.unwrap());
        let sent = f.get(anonymous.id).await;
        assert_eq!((sent.status, sent.user_id), (Status::Waiting, None));
    })
    .await;
}

#[tokio::test]
async fn send_refuses_an_expired_request() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let request = f.new_request().await;
        let mut d = dispatch(b"phone", 5, Some(f.user.id));
        d.now = request.expires_at;
        assert!(!store.send_login_request(request.id, &d).await.unwrap());
        assert_eq!(f.get(request.id).await.status, Status::New);
    })
    .await;
}

#[tokio::test]
async fn send_refuses_a_number_with_limit_requests_waiting() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let limit = 2;
        for _ in 0..limit {
            let r = f.new_request().await;
            let d = dispatch(b"busy", limit, Some(f.user.id));
            assert!(store.send_login_request(r.id, &d).await.unwrap());
        }
        let refused = f.new_request().await;
        let d = dispatch(b"busy", limit, Some(f.user.id));
        assert!(!store.send_login_request(refused.id, &d).await.unwrap());
        assert_eq!(f.get(refused.id).await.status, Status::New);

        // Another number is not limited by this one.
        let d = dispatch(b"other", limit, None);
        assert!(store.send_login_request(refused.id, &d).await.unwrap());

        // Requests that stopped waiting (failed) or expired no longer count.
        let pending = store
            .list_pending_login_requests(f.user.id, NOW)
            .await
            .unwrap();
        let first = pending[0].id;
        assert!(
            store
                .fail_login_request(
                    first,
                    &[Status::Waiting],
                    None,
                    ErrorCode::AccessDenied,
                    NOW,
                    &[]
                )
                .await
                .unwrap()
        );
        let r = f.new_request().await;
        let d = dispatch(b"busy", limit, Some(f.user.id));
        assert!(store.send_login_request(r.id, &d).await.unwrap());

        let mut late = browser_request(CLIENT);
        late.expires_at = NOW + 10 * LIFETIME;
        store.create_login_request(&late).await.unwrap();
        let mut d = dispatch(b"busy", limit, Some(f.user.id));
        d.now = NOW + LIFETIME;
        assert!(
            store.send_login_request(late.id, &d).await.unwrap(),
            "the two waiting ones have expired by then"
        );
    })
    .await;
}

#[tokio::test]
async fn confirm_in_the_app_moves_only_a_waiting_request_of_that_user() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let other = f.user("4791234502").await;
        let c = confirmation(f.user.id, Amr::App);

        let new = f.new_request().await;
        assert!(
            !store
                .confirm_login_request(new.id, &c, &audit("confirm"))
                .await
                .unwrap(),
            "not waiting yet"
        );
        assert_eq!(f.get(new.id).await.status, Status::New);

        let waiting = f.waiting_request().await;
        let by_other = confirmation(other.id, Amr::App);
        assert!(
            !store
                .confirm_login_request(waiting.id, &by_other, &audit("confirm"))
                .await
                .unwrap(),
            "another user's request"
        );
        let mut late = c;
        late.now = waiting.expires_at;
        assert!(
            !store
                .confirm_login_request(waiting.id, &late, &audit("confirm"))
                .await
                .unwrap(),
            "expired"
        );
        assert_eq!(f.get(waiting.id).await.status, Status::Waiting);

        assert!(
            store
                .confirm_login_request(waiting.id, &c, &audit("confirm"))
                .await
                .unwrap()
        );
        let confirmed = f.get(waiting.id).await;
        assert_eq!(confirmed.status, Status::Confirmed);
        assert_eq!(confirmed.user_id, Some(f.user.id));
        assert_eq!(confirmed.amr, Some(Amr::App));
        assert_eq!(confirmed.auth_time, Some(NOW));
        assert_eq!(confirmed.expires_at, c.expires_at);

        assert!(
            !store
                .confirm_login_request(waiting.id, &c, &audit("confirm"))
                .await
                .unwrap(),
            "confirmed already"
        );
    })
    .await;
}

#[tokio::test]
async fn confirm_by_a_remembered_browser_moves_only_a_new_request() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let c = Confirmation {
            remember_browser: true,
            ..confirmation(f.user.id, Amr::RememberedBrowser)
        };
        let waiting = f.waiting_request().await;
        assert!(
            !store
                .confirm_login_request(waiting.id, &c, &[])
                .await
                .unwrap()
        );
        let new = f.new_request().await;
        assert!(store.confirm_login_request(new.id, &c, &[]).await.unwrap());
        let confirmed = f.get(new.id).await;
        assert_eq!(confirmed.status, Status::Confirmed);
        assert_eq!(confirmed.user_id, Some(f.user.id));
        assert_eq!(confirmed.amr, Some(Amr::RememberedBrowser));
        assert!(confirmed.remember_browser);
    })
    .await;
}

#[tokio::test]
async fn confirm_adds_the_consent_and_answers_given_only_when_it_wins() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let user = f.user.id;
        store
            .grant_consent(user, CLIENT, scopes("name"), NOW - 100)
            .await
            .unwrap();
        let answers = vec![DelegatedAnswer {
            id: "newsletter".into(),
            accepted: true,
        }];
        let waiting = f.waiting_request().await;
        let c = Confirmation {
            consent: Some(scopes("email")),
            delegated_answers: Some(&answers),
            ..confirmation(user, Amr::App)
        };
        assert!(
            store
                .confirm_login_request(waiting.id, &c, &audit("confirm"))
                .await
                .unwrap()
        );
        let consent = store.get_consent(user, CLIENT).await.unwrap().unwrap();
        assert_eq!(consent.scopes, scopes("name email"), "added, not replaced");
        assert_eq!(consent.granted_at, NOW);
        assert_eq!(f.get(waiting.id).await.delegated_answers, Some(answers));

        // A confirmation that loses stores nothing.
        let no_answers = vec![DelegatedAnswer {
            id: "newsletter".into(),
            accepted: false,
        }];
        let losing = Confirmation {
            consent: Some(scopes("address nin")),
            delegated_answers: Some(&no_answers),
            now: NOW + 1,
            ..confirmation(user, Amr::App)
        };
        assert!(
            !store
                .confirm_login_request(waiting.id, &losing, &audit("confirm"))
                .await
                .unwrap()
        );
        let new = f.new_request().await;
        assert!(
            !store
                .confirm_login_request(new.id, &losing, &audit("confirm"))
                .await
                .unwrap()
        );
        let after = store.get_consent(user, CLIENT).await.unwrap().unwrap();
        assert_eq!(after, consent);
        assert!(f.get(waiting.id).await.delegated_answers.unwrap()[0].accepted);
        assert_eq!(f.get(new.id).await.delegated_answers, None);
    })
    .await;
}

#[tokio::test]
async fn fail_moves_only_from_the_given_states_of_that_user_before_expiry() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let other = f.user("4791234502").await;
        let fail = |id, from: &'static [Status], user: Option<Uuid>, now| {
            let store = store.clone();
            async move {
                store
                    .fail_login_request(
                        id,
                        from,
                        user,
                        ErrorCode::AccessDenied,
                        now,
                        &audit("fail"),
                    )
                    .await
                    .unwrap()
            }
        };

        let new = f.new_request().await;
        assert!(
            !fail(new.id, &[Status::Waiting], None, NOW).await,
            "not in from"
        );
        assert!(!fail(new.id, &[], None, NOW).await, "no from states");
        assert!(
            !fail(new.id, &[Status::New], Some(f.user.id), NOW).await,
            "not this user's request"
        );
        assert!(
            !fail(new.id, &[Status::New], None, new.expires_at).await,
            "expired"
        );
        assert_eq!(f.get(new.id).await.status, Status::New);
        assert!(fail(new.id, &[Status::New, Status::Waiting], None, NOW).await);
        let failed = f.get(new.id).await;
        assert_eq!(failed.status, Status::Failed);
        assert_eq!(failed.error, Some(ErrorCode::AccessDenied));
        assert!(
            !fail(new.id, &[Status::New, Status::Waiting], None, NOW).await,
            "failed already"
        );

        let waiting = f.waiting_request().await;
        assert!(!fail(waiting.id, &[Status::Waiting], Some(other.id), NOW).await);
        assert!(fail(waiting.id, &[Status::Waiting], Some(f.user.id), NOW).await);

        let confirmed = f.confirmed_request().await;
        assert!(!fail(confirmed.id, &[Status::New, Status::Waiting], None, NOW).await);
        assert!(fail(confirmed.id, &[Status::Confirmed], None, NOW).await);
    })
    .await;
}

#[tokio::test]
async fn fail_stores_the_error_given() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let waiting = f.waiting_request().await;
        let moved = store
            .fail_login_request(
                waiting.id,
                &[Status::Waiting],
                Some(f.user.id),
                ErrorCode::WrongChallenge,
                NOW,
                &audit("wrong number"),
            )
            .await
            .unwrap();
        assert!(moved);
        assert_eq!(
            f.get(waiting.id).await.error,
            Some(ErrorCode::WrongChallenge)
        );
    })
    .await;
}

#[tokio::test]
async fn complete_moves_only_a_confirmed_request_and_stores_code_consent_and_browser() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let user = f.user.id;

        let waiting = f.waiting_request().await;
        let early = auth_code(b"early", CLIENT, user);
        let early_browser = browser(user, NOW + 3600);
        let completion = Completion {
            code: &early,
            now: NOW,
            consent: Some((scopes("nin"), NOW)),
            browser: Some((&early_browser, b"early-browser")),
        };
        assert!(
            !store
                .complete_login_request(waiting.id, &completion, &audit("done"))
                .await
                .unwrap(),
            "not confirmed"
        );
        assert_eq!(f.get(waiting.id).await.status, Status::Waiting);

        let confirmed = f.confirmed_request().await;
        let late = auth_code(b"late", CLIENT, user);
        let late_completion = Completion {
            code: &late,
            now: confirmed.expires_at,
            consent: None,
            browser: None,
        };
        assert!(
            !store
                .complete_login_request(confirmed.id, &late_completion, &audit("done"))
                .await
                .unwrap(),
            "expired"
        );
        assert_eq!(f.get(confirmed.id).await.status, Status::Confirmed);

        let code = auth_code(b"code", CLIENT, user);
        let remembered = browser(user, NOW + 3600);
        let completion = Completion {
            code: &code,
            now: NOW,
            consent: Some((scopes("address"), NOW)),
            browser: Some((&remembered, b"browser")),
        };
        assert!(
            store
                .complete_login_request(confirmed.id, &completion, &audit("done"))
                .await
                .unwrap()
        );
        assert_eq!(f.get(confirmed.id).await.status, Status::Done);
        assert_eq!(
            store.redeem_code(b"code", CLIENT, NOW).await.unwrap(),
            Redemption::Redeemed(Box::new(code.clone()))
        );
        let consent = store.get_consent(user, CLIENT).await.unwrap().unwrap();
        assert_eq!(consent.scopes, scopes("address"));
        assert_eq!(
            store.list_browsers(user, NOW).await.unwrap(),
            std::slice::from_ref(&remembered)
        );

        // Done already: the second completion stores none of its parts.
        let again = auth_code(b"again", CLIENT, user);
        let another_browser = browser(user, NOW + 3600);
        let completion = Completion {
            code: &again,
            now: NOW,
            consent: Some((scopes("nin"), NOW)),
            browser: Some((&another_browser, b"another")),
        };
        assert!(
            !store
                .complete_login_request(confirmed.id, &completion, &audit("done"))
                .await
                .unwrap()
        );
        for unknown in [&b"again"[..], b"early", b"late"] {
            assert_eq!(
                store.redeem_code(unknown, CLIENT, NOW).await.unwrap(),
                Redemption::Unknown
            );
        }
        assert_eq!(
            store.get_consent(user, CLIENT).await.unwrap(),
            Some(consent)
        );
        assert_eq!(store.list_browsers(user, NOW).await.unwrap(), [remembered]);
    })
    .await;
}

#[tokio::test]
async fn a_ticket_opens_a_new_request_once_for_the_user_whose_app_opened_it() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let new = f.new_request().await;
        assert!(
            store
                .set_login_ticket(new.id, b"ticket", NOW)
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .open_login_ticket(b"wrong", f.user.id, NOW)
                .await
                .unwrap(),
            None
        );
        let opened = store
            .open_login_ticket(b"ticket", f.user.id, NOW)
            .await
            .unwrap()
            .expect("the ticket opens the request");
        assert_eq!(opened.id, new.id);
        assert_eq!(opened.status, Status::Waiting);
        assert_eq!(opened.user_id, Some(f.user.id));
        assert_eq!(f.get(new.id).await, opened);
        assert_eq!(
            store
                .open_login_ticket(b"ticket", f.user.id, NOW)
                .await
                .unwrap(),
            None,
            "spent"
        );
        assert!(
            !store
                .set_login_ticket(new.id, b"ticket-2", NOW)
                .await
                .unwrap(),
            "only new requests get a ticket"
        );
    })
    .await;
}

#[tokio::test]
async fn tickets_respect_the_expiry() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let new = f.new_request().await;
        assert!(
            !store
                .set_login_ticket(new.id, b"late", new.expires_at)
                .await
                .unwrap()
        );
        assert!(
            store
                .set_login_ticket(new.id, b"ticket", NOW)
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .open_login_ticket(b"ticket", f.user.id, new.expires_at)
                .await
                .unwrap(),
            None
        );
        assert_eq!(f.get(new.id).await.status, Status::New);
    })
    .await;
}

#[tokio::test]
async fn a_resume_token_is_set_on_a_confirmed_request_and_taken_once() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let waiting = f.waiting_request().await;
        assert!(
            !store
                .take_resume_token(waiting.id, b"resume")
                .await
                .unwrap()
        );

        let confirmed = f.waiting_request().await;
        let c = Confirmation {
            resume_hash: Some(b"resume"),
            ..confirmation(f.user.id, Amr::App)
        };
        assert!(
            store
                .confirm_login_request(confirmed.id, &c, &audit("confirm"))
                .await
                .unwrap()
        );
        assert!(
            !store
                .take_resume_token(confirmed.id, b"wrong")
                .await
                .unwrap()
        );
        assert!(
            !store
                .take_resume_token(waiting.id, b"resume")
                .await
                .unwrap(),
            "another request's token"
        );
        assert!(
            store
                .take_resume_token(confirmed.id, b"resume")
                .await
                .unwrap()
        );
        assert!(
            !store
                .take_resume_token(confirmed.id, b"resume")
                .await
                .unwrap(),
            "spent"
        );
    })
    .await;
}

#[tokio::test]
async fn pending_requests_are_the_users_waiting_unexpired_ones_oldest_first() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let other = f.user("4791234502").await;
        let first = f.waiting_request().await;
        let mut second = browser_request(CLIENT);
        second.created_at = NOW + 1;
        second.expires_at = NOW + 1 + LIFETIME;
        store.create_login_request(&second).await.unwrap();
        let d = dispatch(b"phone", 100, Some(f.user.id));
        assert!(store.send_login_request(second.id, &d).await.unwrap());
        f.new_request().await;
        f.confirmed_request().await;
        let theirs = f.new_request().await;
        let d = dispatch(b"other", 100, Some(other.id));
        assert!(store.send_login_request(theirs.id, &d).await.unwrap());

        let ids = |list: Vec<nod_core::login::LoginRequest>| -> Vec<Uuid> {
            list.into_iter().map(|r| r.id).collect()
        };
        assert_eq!(
            ids(store
                .list_pending_login_requests(f.user.id, NOW)
                .await
                .unwrap()),
            [first.id, second.id]
        );
        assert_eq!(
            ids(store
                .list_pending_login_requests(f.user.id, NOW + LIFETIME)
                .await
                .unwrap()),
            [second.id],
            "the first has expired"
        );
        assert_eq!(
            ids(store
                .list_pending_login_requests(other.id, NOW)
                .await
                .unwrap()),
            [theirs.id]
        );
    })
    .await;
}

#[tokio::test]
async fn confirm_can_issue_the_code_and_the_resume_token_in_the_same_move() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let user = f.user.id;
        let waiting = f.waiting_request().await;
        let code = auth_code(b"in-app", CLIENT, user);
        let c = Confirmation {
            code: Some(&code),
            ..confirmation(user, Amr::App)
        };
        assert!(
            store
                .confirm_login_request(waiting.id, &c, &audit("confirm"))
                .await
                .unwrap()
        );
        assert_eq!(f.get(waiting.id).await.status, Status::Done);
        assert_eq!(
            store.redeem_code(b"in-app", CLIENT, NOW).await.unwrap(),
            Redemption::Redeemed(Box::new(code.clone()))
        );

        let waiting = f.waiting_request().await;
        let c = Confirmation {
            resume_hash: Some(b"resume"),
            ..confirmation(user, Amr::App)
        };
        assert!(
            store
                .confirm_login_request(waiting.id, &c, &audit("confirm"))
                .await
                .unwrap()
        );
        assert_eq!(f.get(waiting.id).await.status, Status::Confirmed);
        assert!(!store.take_resume_token(waiting.id, b"wrong").await.unwrap());
        assert!(
            store
                .take_resume_token(waiting.id, b"resume")
                .await
                .unwrap()
        );
        assert!(
            !store
                .take_resume_token(waiting.id, b"resume")
                .await
                .unwrap()
        );

        // A confirmation that loses issues no code.
        let lost = auth_code(b"lost", CLIENT, user);
        let c = Confirmation {
            code: Some(&lost),
            ..confirmation(user, Amr::App)
        };
        assert!(
            !store
                .confirm_login_request(waiting.id, &c, &audit("confirm"))
                .await
                .unwrap()
        );
        assert_eq!(
            store.redeem_code(b"lost", CLIENT, NOW).await.unwrap(),
            Redemption::Unknown
        );
    })
    .await;
}
