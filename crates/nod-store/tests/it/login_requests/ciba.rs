//! Merchant-initiated requests: created under a per-number limit, found by their client,
//! polled, and finished once.

use nod_core::ErrorCode;
use nod_core::login::{Amr, Status};
use nod_store::{NumberLimits, PhoneDispatch};

use crate::support::{
    CLIENT, Fixture, LIFETIME, NOW, audit, ciba_request, ciba_token, confirmation, dispatch, each,
    pending_limit,
};

#[tokio::test]
async fn a_ciba_request_is_stored_waiting_and_found_only_by_its_client() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let request = f.ciba_request().await;
        assert_eq!(f.get(request.id).await, request);
        assert_eq!(request.status, Status::Waiting);
        let auth_req_id = &request.ciba.as_ref().unwrap().auth_req_id;
        assert_eq!(
            store.get_ciba_request(auth_req_id, CLIENT).await.unwrap(),
            Some(request.clone())
        );
        assert_eq!(
            store
                .get_ciba_request(auth_req_id, "another-client")
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store.get_ciba_request("no-such-id", CLIENT).await.unwrap(),
            None
        );
    })
    .await;
}

#[tokio::test]
async fn a_ciba_request_over_the_limit_is_not_stored() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let limit = 2;
        for _ in 0..limit {
            let r = ciba_request(CLIENT, f.user.id);
            assert!(
                store
                    .create_ciba_request(&r, b"p", pending_limit(limit), NOW)
                    .await
                    .unwrap()
            );
        }
        let refused = ciba_request(CLIENT, f.user.id);
        assert!(
            !store
                .create_ciba_request(&refused, b"p", pending_limit(limit), NOW)
                .await
                .unwrap()
        );
        assert_eq!(store.get_login_request(refused.id).await.unwrap(), None);
        assert!(
            !store
                .create_ciba_request(&refused, b"another number", pending_limit(limit), NOW)
                .await
                .unwrap(),
            "the same person, whatever the number"
        );
        let other = f.user("4791234599").await;
        let for_other = ciba_request(CLIENT, other.id);
        assert!(
            store
                .create_ciba_request(&for_other, b"another number", pending_limit(limit), NOW)
                .await
                .unwrap()
        );

        // Once the waiting ones have expired they no longer count.
        let mut later = ciba_request(CLIENT, f.user.id);
        later.expires_at = NOW + 2 * LIFETIME;
        assert!(
            store
                .create_ciba_request(&later, b"p", pending_limit(limit), NOW + LIFETIME)
                .await
                .unwrap()
        );
    })
    .await;
}

#[tokio::test]
async fn a_poll_is_recorded() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let request = f.ciba_request().await;
        store.record_poll(request.id, NOW + 7).await.unwrap();
        let polled = f.get(request.id).await;
        assert_eq!(polled.ciba.unwrap().last_polled_at, Some(NOW + 7));
    })
    .await;
}

#[tokio::test]
async fn finish_moves_a_confirmed_merchant_initiated_request_to_done_once() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let request = f.ciba_request().await;
        assert!(
            !store
                .finish_ciba_request(
                    request.id,
                    NOW,
                    &ciba_token(f.user.id, request.id),
                    &audit("tokens")
                )
                .await
                .unwrap(),
            "not confirmed"
        );
        let c = confirmation(f.user.id, Amr::App);
        assert!(
            store
                .confirm_login_request(request.id, &c, &audit("confirm"))
                .await
                .unwrap()
        );
        let expires_at = f.get(request.id).await.expires_at;
        assert!(
            !store
                .finish_ciba_request(
                    request.id,
                    expires_at,
                    &ciba_token(f.user.id, request.id),
                    &audit("tokens")
                )
                .await
                .unwrap(),
            "expired"
        );
        assert!(
            store
                .finish_ciba_request(
                    request.id,
                    NOW,
                    &ciba_token(f.user.id, request.id),
                    &audit("tokens")
                )
                .await
                .unwrap()
        );
        assert_eq!(f.get(request.id).await.status, Status::Done);
        assert!(
            !store
                .finish_ciba_request(
                    request.id,
                    NOW,
                    &ciba_token(f.user.id, request.id),
                    &audit("tokens")
                )
                .await
                .unwrap(),
            "redeemed already"
        );

        let browser_login = f.confirmed_request().await;
        assert!(
            !store
                .finish_ciba_request(
                    browser_login.id,
                    NOW,
                    &ciba_token(f.user.id, browser_login.id),
                    &audit("tokens")
                )
                .await
                .unwrap(),
            "a browser login is finished by complete_login_request"
        );
        assert_eq!(f.get(browser_login.id).await.status, Status::Confirmed);
    })
    .await;
}

#[tokio::test]
async fn requests_opened_from_a_deep_link_count_toward_the_persons_limit() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let limit = 2;
        for i in 0..limit {
            let request = f.new_request().await;
            let ticket = [b't', i as u8];
            assert!(
                store
                    .set_login_ticket(request.id, &ticket, NOW)
                    .await
                    .unwrap()
            );
            assert!(
                store
                    .open_login_ticket(&ticket, f.user.id, NOW)
                    .await
                    .unwrap()
                    .is_some()
            );
        }
        let refused = ciba_request(CLIENT, f.user.id);
        assert!(
            !store
                .create_ciba_request(&refused, b"p", pending_limit(limit), NOW)
                .await
                .unwrap()
        );
        // The phone form counts them too, for a known number.
        let request = f.new_request().await;
        assert!(
            !store
                .send_login_request(request.id, &dispatch(b"p", limit, Some(f.user.id)))
                .await
                .unwrap()
        );
        assert!(
            store
                .send_login_request(request.id, &dispatch(b"p", limit, None))
                .await
                .unwrap(),
            "an unknown number counts by number only"
        );
    })
    .await;
}

#[tokio::test]
async fn the_access_token_is_stored_only_by_the_finish_that_moves_the_request() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let request = f.ciba_request().await;
        let early = ciba_token(f.user.id, request.id);
        assert!(
            !store
                .finish_ciba_request(request.id, NOW, &early, &audit("tokens"))
                .await
                .unwrap()
        );
        let c = confirmation(f.user.id, Amr::App);
        assert!(
            store
                .confirm_login_request(request.id, &c, &audit("confirm"))
                .await
                .unwrap()
        );
        let token = ciba_token(f.user.id, request.id);
        assert!(
            store
                .finish_ciba_request(request.id, NOW, &token, &audit("tokens"))
                .await
                .unwrap()
        );
        let found = |hash: Vec<u8>| {
            let store = store.clone();
            async move { store.get_access_token_with_user(&hash, NOW).await.unwrap() }
        };
        assert_eq!(
            found(token.token_hash.clone()).await.map(|(t, _)| t),
            Some(token)
        );
        assert!(
            found(early.token_hash.clone()).await.is_none(),
            "the refused finish stored nothing"
        );
    })
    .await;
}

/// Requests cancelled at once still count: a number that was sent its budget of requests
/// gets no more, by the phone form or merchant-initiated, until the budget refills at one
/// request per share of the window.
#[tokio::test]
async fn requests_that_ended_at_once_count_toward_the_budget() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let limits = NumberLimits {
            pending: 3,
            per_window: 2,
            window: 600,
        };
        assert_eq!(store.phone_budget(b"p").await.unwrap(), None);
        for _ in 0..2 {
            let r = ciba_request(CLIENT, f.user.id);
            assert!(
                store
                    .create_ciba_request(&r, b"p", limits, NOW)
                    .await
                    .unwrap()
            );
            assert!(
                store
                    .fail_login_request(
                        r.id,
                        &[Status::Waiting],
                        None,
                        ErrorCode::AccessDenied,
                        NOW,
                        &[]
                    )
                    .await
                    .unwrap(),
                "cancelled at once"
            );
        }
        assert_eq!(
            store.phone_budget(b"p").await.unwrap(),
            Some((NOW + 600) * 1000),
            "whole again a window from now"
        );
        let refused = ciba_request(CLIENT, f.user.id);
        assert!(
            !store
                .create_ciba_request(&refused, b"p", limits, NOW + 299)
                .await
                .unwrap(),
            "none waits, but two were sent"
        );
        assert_eq!(store.get_login_request(refused.id).await.unwrap(), None);
        let browser = f.new_request().await;
        let by_form = PhoneDispatch {
            limits,
            ..dispatch(b"p", 3, Some(f.user.id))
        };
        assert!(
            !store
                .send_login_request(browser.id, &by_form)
                .await
                .unwrap(),
            "the phone form counts them too"
        );
        assert_eq!(
            store
                .get_login_request(browser.id)
                .await
                .unwrap()
                .unwrap()
                .status,
            Status::New,
            "a refused send changes nothing"
        );
        assert!(
            store
                .create_ciba_request(&refused, b"another number", limits, NOW)
                .await
                .unwrap(),
            "another number has its own budget"
        );
        // Half the window later, one request's share has come back, and only one.
        let again = ciba_request(CLIENT, f.user.id);
        assert!(
            store
                .create_ciba_request(&again, b"p", limits, NOW + 300)
                .await
                .unwrap()
        );
        let more = ciba_request(CLIENT, f.user.id);
        assert!(
            !store
                .create_ciba_request(&more, b"p", limits, NOW + 300)
                .await
                .unwrap()
        );
    })
    .await;
}
