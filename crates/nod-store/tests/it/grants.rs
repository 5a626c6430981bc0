//! Codes and access tokens: single-use redemption, replay revocation, token lookup and
//! the purge of what has expired.

use nod_core::Timestamp;
use nod_core::grant::{AccessToken, AuthCode, MerchantToken, Redemption};
use nod_core::login::{LoginRequest, Status};
use nod_store::{Completion, Store};
use uuid::Uuid;

use crate::support::{
    CLIENT, Fixture, NOW, auth_code, browser, browser_request, each, race, sales_unit, scopes,
};

fn token(
    hash: &[u8],
    user_id: Uuid,
    code_hash: Option<&[u8]>,
    expires_at: Timestamp,
) -> AccessToken {
    AccessToken {
        token_hash: hash.to_vec(),
        client_id: CLIENT.into(),
        user_id,
        scopes: scopes("openid name"),
        sid: Uuid::new_v4(),
        code_hash: code_hash.map(<[u8]>::to_vec),
        expires_at,
    }
}

/// Stores a code the way a finished login does.
async fn issue(f: &Fixture, code: &AuthCode) {
    let confirmed = f.confirmed_request().await;
    let completion = Completion {
        code,
        now: NOW,
        consent: None,
        browser: None,
    };
    let done = f
        .store
        .complete_login_request(confirmed.id, &completion, &[])
        .await
        .unwrap();
    assert!(done);
}

#[tokio::test]
async fn the_access_token_is_stored_with_the_redemption_only_when_the_request_matches() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let user = f.user.id;
        for (code_hash, accepted) in [(&b"good"[..], true), (&b"bad"[..], false)] {
            let code = auth_code(code_hash, CLIENT, user);
            issue(&f, &code).await;
            let token_hash = [code_hash, b"-token"].concat();
            let made = |redeemed: &AuthCode| {
                assert_eq!(
                    redeemed.code_hash, code_hash,
                    "issue sees the redeemed code"
                );
                accepted.then(|| token(&token_hash, redeemed.user_id, Some(code_hash), NOW + 60))
            };
            assert_eq!(
                store
                    .redeem_code_issuing(code_hash, CLIENT, NOW, &made)
                    .await
                    .unwrap(),
                Redemption::Redeemed(Box::new(code))
            );
            let stored = store
                .get_access_token_with_user(&token_hash, NOW)
                .await
                .unwrap();
            assert_eq!(stored.is_some(), accepted, "{code_hash:?}");
        }
        // A replay revokes the token issued with the redemption, and issues none.
        let never = |_: &AuthCode| -> Option<AccessToken> { panic!("a replay issues nothing") };
        assert_eq!(
            store
                .redeem_code_issuing(b"good", CLIENT, NOW, &never)
                .await
                .unwrap(),
            Redemption::Replayed {
                tokens_revoked: true
            }
        );
        assert!(
            store
                .get_access_token_with_user(b"good-token", NOW)
                .await
                .unwrap()
                .is_none()
        );
    })
    .await;
}

#[tokio::test]
async fn a_code_is_redeemed_once_and_a_replay_revokes_the_tokens_issued_from_it() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let user = f.user.id;
        let code = auth_code(b"code", CLIENT, user);
        issue(&f, &code).await;
        assert_eq!(
            store.redeem_code(b"code", CLIENT, NOW).await.unwrap(),
            Redemption::Redeemed(Box::new(code))
        );
        store
            .insert_access_token(&token(b"from-code", user, Some(b"code"), NOW + 3600))
            .await
            .unwrap();
        store
            .insert_access_token(&token(b"unrelated", user, Some(b"other"), NOW + 3600))
            .await
            .unwrap();
        assert!(
            store
                .get_access_token_with_user(b"from-code", NOW)
                .await
                .unwrap()
                .is_some()
        );

        assert_eq!(
            store.redeem_code(b"code", CLIENT, NOW + 1).await.unwrap(),
            Redemption::Replayed {
                tokens_revoked: true
            }
        );
        assert_eq!(
            store
                .get_access_token_with_user(b"from-code", NOW + 1)
                .await
                .unwrap(),
            None,
            "revoked"
        );
        assert!(
            store
                .get_access_token_with_user(b"unrelated", NOW + 1)
                .await
                .unwrap()
                .is_some(),
            "tokens of other codes stay"
        );
        assert_eq!(
            store.redeem_code(b"code", CLIENT, NOW + 2).await.unwrap(),
            Redemption::Replayed {
                tokens_revoked: false
            },
            "every later attempt is a replay; the tokens are gone already"
        );
    })
    .await;
}

#[tokio::test]
async fn a_code_is_redeemed_only_by_its_client_before_it_expires() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        store.create_sales_unit(&sales_unit("other")).await.unwrap();
        let code = auth_code(b"code", CLIENT, f.user.id);
        issue(&f, &code).await;
        assert_eq!(
            store.redeem_code(b"code", "other", NOW).await.unwrap(),
            Redemption::Unknown
        );
        assert_eq!(
            store.redeem_code(b"unknown", CLIENT, NOW).await.unwrap(),
            Redemption::Unknown
        );
        assert_eq!(
            store
                .redeem_code(b"code", CLIENT, code.expires_at)
                .await
                .unwrap(),
            Redemption::Unknown,
            "expired at expires_at"
        );
        assert!(matches!(
            store.redeem_code(b"code", CLIENT, NOW).await.unwrap(),
            Redemption::Redeemed(_)
        ));
    })
    .await;
}

#[tokio::test]
async fn a_valid_access_token_comes_with_its_user() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let t = token(b"token", f.user.id, None, NOW + 60);
        store.insert_access_token(&t).await.unwrap();
        assert_eq!(
            store
                .get_access_token_with_user(b"token", NOW)
                .await
                .unwrap(),
            Some((t, f.user.clone()))
        );
        assert_eq!(
            store
                .get_access_token_with_user(b"token", NOW + 60)
                .await
                .unwrap(),
            None,
            "expired at expires_at"
        );
        assert_eq!(
            store
                .get_access_token_with_user(b"nope", NOW)
                .await
                .unwrap(),
            None
        );
    })
    .await;
}

#[tokio::test]
async fn an_access_token_is_revoked_only_by_its_client() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        store
            .insert_access_token(&token(b"token", f.user.id, None, NOW + 60))
            .await
            .unwrap();
        assert!(
            !store.revoke_access_token(b"token", "other").await.unwrap(),
            "another client's token stays"
        );
        assert!(
            store
                .get_access_token_with_user(b"token", NOW)
                .await
                .unwrap()
                .is_some()
        );
        assert!(store.revoke_access_token(b"token", CLIENT).await.unwrap());
        assert_eq!(
            store
                .get_access_token_with_user(b"token", NOW)
                .await
                .unwrap(),
            None
        );
        assert!(
            !store.revoke_access_token(b"token", CLIENT).await.unwrap(),
            "gone already"
        );
        assert!(!store.revoke_access_token(b"nope", CLIENT).await.unwrap());
    })
    .await;
}

async fn create_request(store: &dyn Store, expires_at: Timestamp) -> LoginRequest {
    let mut request = browser_request(CLIENT);
    request.expires_at = expires_at;
    store.create_login_request(&request).await.unwrap();
    request
}

#[tokio::test]
async fn purge_removes_what_has_expired_and_counts_it() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let user = f.user.id;
        // Codes are kept an hour past their expiry, so a late replay still revokes.
        let mut old_code = auth_code(b"old-code", CLIENT, user);
        old_code.expires_at = NOW - 3601;
        let mut recent_code = auth_code(b"recent-code", CLIENT, user);
        recent_code.expires_at = NOW - 10;
        for code in [&old_code, &recent_code] {
            issue(&f, code).await;
            let at = code.expires_at - 1;
            let redeemed = store
                .redeem_code(&code.code_hash, CLIENT, at)
                .await
                .unwrap();
            assert!(matches!(redeemed, Redemption::Redeemed(_)));
        }
        // Login requests too.
        let old_request = create_request(&*store, NOW - 3601).await;
        let recent_request = create_request(&*store, NOW - 10).await;
        // Tokens, browsers and activation codes go as soon as they expire.
        store
            .insert_access_token(&token(b"old-token", user, None, NOW - 1))
            .await
            .unwrap();
        store
            .insert_access_token(&token(b"token", user, Some(b"recent-code"), NOW + 60))
            .await
            .unwrap();
        store
            .create_browser(&browser(user, NOW - 1), b"old-browser")
            .await
            .unwrap();
        let kept_browser = browser(user, NOW + 60);
        store
            .create_browser(&kept_browser, b"browser")
            .await
            .unwrap();
        store
            .create_activation_code(user, b"old-act", NOW - 1)
            .await
            .unwrap();
        store
            .create_activation_code(user, b"act", NOW + 60)
            .await
            .unwrap();
        for (hash, expires_at) in [(b"old-merchant", NOW - 1), (b"new-merchant", NOW + 60)] {
            store
                .insert_merchant_token(&merchant_token(hash, expires_at))
                .await
                .unwrap();
        }

        assert_eq!(store.purge_expired(NOW).await.unwrap(), 6);
        assert_eq!(
            store
                .get_merchant_token(b"old-merchant", NOW - 100)
                .await
                .unwrap(),
            None,
            "purged"
        );
        assert!(
            store
                .get_merchant_token(b"new-merchant", NOW)
                .await
                .unwrap()
                .is_some()
        );

        assert_eq!(
            store.redeem_code(b"old-code", CLIENT, NOW).await.unwrap(),
            Redemption::Unknown,
            "purged"
        );
        assert_eq!(store.get_login_request(old_request.id).await.unwrap(), None);
        assert_eq!(
            store
                .get_login_request(recent_request.id)
                .await
                .unwrap()
                .map(|r| r.status),
            Some(Status::New)
        );
        assert_eq!(
            store.list_browsers(user, NOW - 100).await.unwrap(),
            [kept_browser]
        );
        assert!(
            !store
                .consume_activation_code(user, b"old-act", NOW - 100)
                .await
                .unwrap()
        );
        assert!(
            store
                .consume_activation_code(user, b"act", NOW)
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .get_access_token_with_user(b"old-token", NOW - 100)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store
                .redeem_code(b"recent-code", CLIENT, NOW)
                .await
                .unwrap(),
            Redemption::Replayed {
                tokens_revoked: true
            },
            "kept, and a replay still revokes"
        );
        assert_eq!(
            store
                .get_access_token_with_user(b"token", NOW)
                .await
                .unwrap(),
            None
        );
        assert_eq!(store.purge_expired(NOW).await.unwrap(), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_code_redeemed_twice_at_once_is_redeemed_once() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        for trial in 0..10u8 {
            let code = auth_code(&[b'c', trial], CLIENT, f.user.id);
            issue(&f, &code).await;
            let hash = code.code_hash.clone();
            let results = race(2, |_| {
                let store = store.clone();
                let hash = hash.clone();
                async move { store.redeem_code(&hash, CLIENT, NOW).await }
            })
            .await;
            let results: Vec<Redemption> = results.into_iter().map(|r| r.unwrap()).collect();
            let redeemed = results
                .iter()
                .filter(|r| matches!(r, Redemption::Redeemed(_)))
                .count();
            assert_eq!(redeemed, 1, "trial {trial}: {results:?}");
            assert!(
                results
                    .iter()
                    .any(|r| matches!(r, Redemption::Replayed { .. })),
                "trial {trial}"
            );
        }
    })
    .await;
}

fn merchant_token(hash: &[u8], expires_at: Timestamp) -> MerchantToken {
    MerchantToken {
        token_hash: hash.to_vec(),
        client_id: CLIENT.into(),
        expires_at,
    }
}

#[tokio::test]
async fn merchant_tokens_are_found_by_hash_until_they_expire() {
    each(|store| async move {
        let _f = Fixture::new(store.clone()).await;
        let token = merchant_token(b"merchant-token", NOW + 60);
        store.insert_merchant_token(&token).await.unwrap();
        assert_eq!(
            store
                .get_merchant_token(b"merchant-token", NOW)
                .await
                .unwrap(),
            Some(token.clone())
        );
        assert_eq!(
            store
                .get_merchant_token(b"merchant-token", NOW + 60)
                .await
                .unwrap(),
            None,
            "expired at expires_at"
        );
        assert_eq!(
            store.get_merchant_token(b"unknown", NOW).await.unwrap(),
            None
        );
        assert_eq!(
            store
                .get_access_token_with_user(b"merchant-token", NOW)
                .await
                .unwrap(),
            None,
            "a merchant token is no person's access token"
        );
        store.delete_sales_unit(CLIENT).await.unwrap();
        assert_eq!(
            store
                .get_merchant_token(b"merchant-token", NOW)
                .await
                .unwrap(),
            None,
            "deleted with its sales unit"
        );
    })
    .await;
}
