//! Of two moves of one request at the same moment exactly one wins, and limits hold
//! under concurrent creation. Each race runs on several worker threads, repeatedly.

use nod_core::ErrorCode;
use nod_core::grant::Redemption;
use nod_core::login::{Amr, Status};
use nod_store::{Completion, Confirmation};

use crate::support::{
    CLIENT, Fixture, NOW, audit, auth_code, ciba_request, ciba_token, confirmation, dispatch, each,
    pending_limit, race, race2,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn confirm_racing_fail_has_one_winner_and_the_stored_status_is_its() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let user = f.user.id;
        let (mut confirms, mut fails) = (0, 0);
        for trial in 0..50 {
            let request = f.waiting_request().await;
            let id = request.id;
            let (s1, s2) = (store.clone(), store.clone());
            let confirm = async move {
                let c = confirmation(user, Amr::App);
                s1.confirm_login_request(id, &c, &audit("confirm")).await
            };
            let fail = async move {
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
            // Which one starts first alternates, so each gets its chance to win.
            let (confirmed, failed) = if trial % 2 == 0 {
                race2(confirm, fail).await
            } else {
                let (failed, confirmed) = race2(fail, confirm).await;
                (confirmed, failed)
            };
            let (confirmed, failed) = (confirmed.unwrap(), failed.unwrap());
            assert!(confirmed ^ failed, "trial {trial}: exactly one wins");
            let stored = f.get(id).await;
            if confirmed {
                confirms += 1;
                assert_eq!(stored.status, Status::Confirmed, "trial {trial}");
                assert_eq!(stored.error, None);
            } else {
                fails += 1;
                assert_eq!(stored.status, Status::Failed, "trial {trial}");
                assert_eq!(stored.amr, None);
            }
        }
        eprintln!("confirm won {confirms}, fail won {fails}");
        assert!(confirms > 0 && fails > 0, "each side won some trials");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_ciba_requests_for_one_number_stop_at_the_limit() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let user = f.user.id;
        let requests: Vec<_> = (0..20).map(|_| ciba_request(CLIENT, user)).collect();
        let results = race(20, |i| {
            let store = store.clone();
            let request = requests[i].clone();
            async move {
                store
                    .create_ciba_request(&request, b"one number", pending_limit(3), NOW)
                    .await
            }
        })
        .await;
        let created = results.into_iter().filter(|r| *r.as_ref().unwrap()).count();
        assert_eq!(created, 3);
        let waiting = store.list_pending_login_requests(user, NOW).await.unwrap();
        assert_eq!(waiting.len(), 3);
        let mut stored = 0;
        for r in &requests {
            stored += usize::from(store.get_login_request(r.id).await.unwrap().is_some());
        }
        assert_eq!(stored, 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sends_to_one_number_stop_at_the_limit() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let user = f.user.id;
        let mut ids = Vec::new();
        for _ in 0..12 {
            ids.push(f.new_request().await.id);
        }
        let results = race(ids.len(), |i| {
            let store = store.clone();
            let id = ids[i];
            async move {
                store
                    .send_login_request(id, &dispatch(b"one number", 3, Some(user)))
                    .await
            }
        })
        .await;
        let sent = results.into_iter().filter(|r| *r.as_ref().unwrap()).count();
        assert_eq!(sent, 3);
        let mut waiting = 0;
        for id in &ids {
            waiting += usize::from(f.get(*id).await.status == Status::Waiting);
        }
        assert_eq!(waiting, 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_completions_at_once_issue_one_code() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let user = f.user.id;
        for trial in 0..10u8 {
            let id = f.confirmed_request().await.id;
            let results = race(2, |i| {
                let store = store.clone();
                async move {
                    let code = auth_code(&[trial, i as u8], CLIENT, user);
                    let completion = Completion {
                        code: &code,
                        now: NOW,
                        consent: None,
                        browser: None,
                    };
                    store
                        .complete_login_request(id, &completion, &audit("done"))
                        .await
                }
            })
            .await;
            let won: Vec<bool> = results.into_iter().map(|r| r.unwrap()).collect();
            assert_eq!(won.iter().filter(|w| **w).count(), 1, "trial {trial}");
            let mut codes = 0;
            for i in 0..2u8 {
                let redeemed = store.redeem_code(&[trial, i], CLIENT, NOW).await.unwrap();
                codes += usize::from(matches!(redeemed, Redemption::Redeemed(_)));
            }
            assert_eq!(codes, 1, "trial {trial}: one code stored");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_apps_opening_one_ticket_at_once_open_it_once() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let user = f.user.id;
        for trial in 0..10u8 {
            let id = f.new_request().await.id;
            let ticket = [b't', trial];
            assert!(store.set_login_ticket(id, &ticket, NOW).await.unwrap());
            let results = race(2, |_| {
                let store = store.clone();
                async move { store.open_login_ticket(&ticket, user, NOW).await }
            })
            .await;
            let opened = results
                .into_iter()
                .filter(|r| r.as_ref().unwrap().is_some())
                .count();
            assert_eq!(opened, 1, "trial {trial}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_resume_token_taken_twice_at_once_is_taken_once() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        for trial in 0..10u8 {
            let id = f.waiting_request().await.id;
            let token = [b'r', trial];
            let c = Confirmation {
                resume_hash: Some(&token),
                ..confirmation(f.user.id, Amr::App)
            };
            assert!(
                store
                    .confirm_login_request(id, &c, &audit("confirm"))
                    .await
                    .unwrap()
            );
            let results = race(2, |_| {
                let store = store.clone();
                async move { store.take_resume_token(id, &token).await }
            })
            .await;
            let taken = results.into_iter().filter(|r| *r.as_ref().unwrap()).count();
            assert_eq!(taken, 1, "trial {trial}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_token_requests_finishing_one_ciba_request_at_once_finish_it_once() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let user = f.user.id;
        for trial in 0..10 {
            let request = f.ciba_request().await;
            let c = confirmation(user, Amr::App);
            assert!(
                store
                    .confirm_login_request(request.id, &c, &[])
                    .await
                    .unwrap()
            );
            let id = request.id;
            let results = race(2, |_| {
                let store = store.clone();
                async move {
                    let token = ciba_token(user, id);
                    store
                        .finish_ciba_request(id, NOW, &token, &audit("tokens"))
                        .await
                }
            })
            .await;
            let finished = results.into_iter().filter(|r| *r.as_ref().unwrap()).count();
            assert_eq!(finished, 1, "trial {trial}");
        }
    })
    .await;
}
