//! Expiring a waiting request at once (test mode's "expire now"): only a waiting request
//! of that user, only once, and afterwards it is expired for every reader and every move.

use nod_core::ErrorCode;
use nod_core::login::{Amr, Status};

use crate::support::{Fixture, NOW, audit, confirmation, dispatch, each, race2};

#[tokio::test]
async fn expire_ends_only_a_waiting_request_of_that_user() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let other = f.user("4791234502").await;
        let expire = |id, user, now| {
            let store = store.clone();
            async move {
                store
                    .expire_login_request(id, user, now, &audit("expire"))
                    .await
                    .unwrap()
            }
        };

        let new = f.new_request().await;
        assert!(!expire(new.id, f.user.id, NOW).await, "new: nobody's yet");
        assert_eq!(f.get(new.id).await, new, "unchanged");

        let confirmed = f.confirmed_request().await;
        assert!(!expire(confirmed.id, f.user.id, NOW).await, "confirmed");
        assert_eq!(f.get(confirmed.id).await.status, Status::Confirmed);

        let waiting = f.waiting_request().await;
        assert!(
            !expire(waiting.id, other.id, NOW).await,
            "another user's request"
        );
        assert!(
            !expire(waiting.id, f.user.id, waiting.expires_at).await,
            "expired already"
        );
        assert_eq!(f.get(waiting.id).await, waiting, "unchanged");

        let later = NOW + 10;
        assert!(expire(waiting.id, f.user.id, later).await);
        let expired = f.get(waiting.id).await;
        assert_eq!(expired.status, Status::Waiting, "the status stays");
        assert_eq!(expired.expires_at, later);
        assert!(expired.is_expired(later));
        assert!(!expire(waiting.id, f.user.id, later).await, "once");

        let ciba = f.ciba_request().await;
        assert!(expire(ciba.id, f.user.id, NOW).await);
        let auth_req_id = &ciba.ciba.as_ref().unwrap().auth_req_id;
        let stored = store
            .get_ciba_request(auth_req_id, crate::support::CLIENT)
            .await
            .unwrap()
            .unwrap();
        assert!(
            stored.is_expired(NOW),
            "the merchant's poll sees it expired"
        );
    })
    .await;
}

#[tokio::test]
async fn an_expired_request_is_not_pending_and_cannot_move_any_more() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let waiting = f.waiting_request().await;
        assert!(
            store
                .expire_login_request(waiting.id, f.user.id, NOW, &audit("expire"))
                .await
                .unwrap()
        );
        let pending = store
            .list_pending_login_requests(f.user.id, NOW)
            .await
            .unwrap();
        assert!(pending.is_empty(), "the app no longer lists it");
        assert!(
            !store
                .confirm_login_request(
                    waiting.id,
                    &confirmation(f.user.id, Amr::App),
                    &audit("confirm")
                )
                .await
                .unwrap()
        );
        assert!(
            !store
                .fail_login_request(
                    waiting.id,
                    &[Status::Waiting],
                    Some(f.user.id),
                    ErrorCode::AccessDenied,
                    NOW,
                    &audit("reject")
                )
                .await
                .unwrap()
        );
        assert_eq!(f.get(waiting.id).await.status, Status::Waiting);
        assert_eq!(f.get(waiting.id).await.error, None);

        // It no longer counts against the number's limit of waiting requests.
        let first = f.new_request().await;
        let d = dispatch(b"solo", 1, Some(f.user.id));
        assert!(store.send_login_request(first.id, &d).await.unwrap());
        let second = f.new_request().await;
        assert!(!store.send_login_request(second.id, &d).await.unwrap());
        assert!(
            store
                .expire_login_request(first.id, f.user.id, NOW, &audit("expire"))
                .await
                .unwrap()
        );
        assert!(store.send_login_request(second.id, &d).await.unwrap());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expire_racing_reject_has_one_winner() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let user = f.user.id;
        let (mut expired, mut rejected) = (0, 0);
        for trial in 0..40 {
            let id = f.waiting_request().await.id;
            let (s1, s2) = (store.clone(), store.clone());
            let expire = async move {
                s1.expire_login_request(id, user, NOW, &audit("expire"))
                    .await
            };
            let reject = async move {
                s2.fail_login_request(
                    id,
                    &[Status::Waiting],
                    Some(user),
                    ErrorCode::AccessDenied,
                    NOW,
                    &audit("reject"),
                )
                .await
            };
            let (e, r) = if trial % 2 == 0 {
                race2(expire, reject).await
            } else {
                let (r, e) = race2(reject, expire).await;
                (e, r)
            };
            let (e, r) = (e.unwrap(), r.unwrap());
            assert!(e ^ r, "trial {trial}: exactly one wins");
            let stored = f.get(id).await;
            if e {
                expired += 1;
                assert_eq!((stored.status, stored.expires_at), (Status::Waiting, NOW));
            } else {
                rejected += 1;
                assert_eq!(stored.status, Status::Failed);
                assert!(stored.expires_at > NOW);
            }
        }
        eprintln!("expire won {expired}, reject won {rejected}");
        assert!(expired > 0 && rejected > 0, "each side won some trials");
    })
    .await;
}
