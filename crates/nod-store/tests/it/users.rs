//! Users and activation codes.

use nod_core::grant::AccessToken;
use nod_core::login::Device;
use nod_core::user::User;
use nod_store::{Completion, StoreError};
use uuid::Uuid;

use crate::support::{
    CLIENT, Fixture, NOW, auth_code, browser, dispatch, each, new_user, race, scopes,
};

#[tokio::test]
async fn a_created_user_reads_back_by_id_and_by_phone() {
    each(|store| async move {
        let user = new_user("4791234501");
        store.create_user(&user).await.unwrap();
        assert_eq!(store.get_user(user.id).await.unwrap(), Some(user.clone()));
        assert_eq!(
            store.get_user_by_phone("4791234501").await.unwrap(),
            Some(user)
        );
        assert_eq!(store.get_user(Uuid::new_v4()).await.unwrap(), None);
        assert_eq!(store.get_user_by_phone("4700000000").await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn the_email_verified_and_active_flags_read_back_everywhere_a_user_does() {
    each(|store| async move {
        let verified = new_user("4791234501");
        let unverified = User {
            email_verified: false,
            active: false,
            ..new_user("4791234502")
        };
        store.create_user(&verified).await.unwrap();
        assert_eq!(
            store
                .import_users(std::slice::from_ref(&unverified))
                .await
                .unwrap(),
            1
        );
        let read = store.get_user(unverified.id).await.unwrap().unwrap();
        assert!(!read.email_verified && !read.active);
        assert_eq!(read, unverified);
        let by_phone = store.get_user_by_phone("4791234502").await.unwrap();
        assert_eq!(by_phone, Some(unverified.clone()));
        let listed = store.list_users(10, 0).await.unwrap();
        assert_eq!(listed, [verified.clone(), unverified.clone()]);
        assert!(listed[0].email_verified);

        store
            .create_sales_unit(&crate::support::sales_unit(CLIENT))
            .await
            .unwrap();
        let token = AccessToken {
            token_hash: b"token".to_vec(),
            client_id: CLIENT.into(),
            user_id: unverified.id,
            scopes: scopes("openid email"),
            sid: Uuid::new_v4(),
            code_hash: None,
            expires_at: NOW + 60,
        };
        store.insert_access_token(&token).await.unwrap();
        let (_, user) = store
            .get_access_token_with_user(b"token", NOW)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user, unverified, "userinfo reads the flag with the token");
    })
    .await;
}

#[tokio::test]
async fn a_taken_phone_number_is_a_conflict() {
    each(|store| async move {
        let first = new_user("4791234501");
        store.create_user(&first).await.unwrap();
        let second = new_user("4791234501");
        let e = store.create_user(&second).await.unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
        assert_eq!(store.get_user(second.id).await.unwrap(), None);
        assert_eq!(
            store.get_user_by_phone("4791234501").await.unwrap(),
            Some(first)
        );
    })
    .await;
}

#[tokio::test]
async fn import_skips_numbers_that_exist_and_counts_the_rest() {
    each(|store| async move {
        let existing = new_user("4791234501");
        store.create_user(&existing).await.unwrap();
        let batch = vec![
            new_user("4791234501"),
            new_user("4791234502"),
            new_user("4791234503"),
            new_user("4791234503"),
        ];
        let created = store.import_users(&batch).await.unwrap();
        assert_eq!(created, 2);
        assert_eq!(
            store.get_user_by_phone("4791234501").await.unwrap(),
            Some(existing),
            "the existing user is untouched"
        );
        assert_eq!(
            store.get_user_by_phone("4791234502").await.unwrap(),
            Some(batch[1].clone())
        );
        assert_eq!(
            store.get_user_by_phone("4791234503").await.unwrap(),
            Some(batch[2].clone()),
            "the first of two equal numbers wins"
        );
        assert_eq!(store.import_users(&batch).await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn users_are_listed_by_phone_number_a_page_at_a_time() {
    each(|store| async move {
        for phone in ["4791234503", "4791234501", "4791234502"] {
            store.create_user(&new_user(phone)).await.unwrap();
        }
        let phones = |users: Vec<nod_core::user::User>| -> Vec<String> {
            users.into_iter().map(|u| u.phone_number).collect()
        };
        assert_eq!(
            phones(store.list_users(2, 0).await.unwrap()),
            ["4791234501", "4791234502"]
        );
        assert_eq!(
            phones(store.list_users(2, 2).await.unwrap()),
            ["4791234503"]
        );
        assert!(store.list_users(2, 4).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn deleting_a_missing_user_is_not_found() {
    each(|store| async move {
        let e = store.delete_user(Uuid::new_v4()).await.unwrap_err();
        assert!(matches!(e, StoreError::NotFound), "{e:?}");
    })
    .await;
}

#[tokio::test]
async fn deleting_a_user_deletes_everything_tied_to_them() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let other = f.user("4791234502").await;
        let user = f.user.id;

        for u in [user, other.id] {
            store
                .grant_consent(u, CLIENT, scopes("name"), NOW)
                .await
                .unwrap();
        }
        let kept_browser = browser(other.id, NOW + 3600);
        store
            .create_browser(&kept_browser, b"b-other")
            .await
            .unwrap();
        store
            .create_browser(&browser(user, NOW + 3600), b"b-user")
            .await
            .unwrap();
        let device = Device {
            id: Uuid::new_v4(),
            user_id: user,
            name: None,
            created_at: NOW,
            last_used_at: NOW,
            expires_at: NOW + 3600,
        };
        store.create_device(&device, b"d-user").await.unwrap();
        store
            .create_activation_code(user, b"act", NOW + 600)
            .await
            .unwrap();
        let token = AccessToken {
            token_hash: b"token".to_vec(),
            client_id: CLIENT.into(),
            user_id: user,
            scopes: scopes("openid"),
            sid: Uuid::new_v4(),
            code_hash: None,
            expires_at: NOW + 3600,
        };
        store.insert_access_token(&token).await.unwrap();
        let waiting = f.waiting_request().await;
        let confirmed = f.confirmed_request().await;
        let code = auth_code(b"code", CLIENT, user);
        let completion = Completion {
            code: &code,
            now: NOW,
            consent: None,
            browser: None,
        };
        assert!(
            store
                .complete_login_request(confirmed.id, &completion, &[])
                .await
                .unwrap()
        );
        // A request of an unknown number has no user and stays.
        let anonymous = f.new_request().await;
        assert!(
            store
                .send_login_request(anonymous.id, &dispatch(b"unknown", 5, None))
                .await
                .unwrap()
        );

        store.delete_user(user).await.unwrap();

        assert_eq!(store.get_user(user).await.unwrap(), None);
        assert!(store.list_consents(user).await.unwrap().is_empty());
        assert!(store.list_browsers(user, NOW).await.unwrap().is_empty());
        assert_eq!(store.use_browser(b"b-user", NOW).await.unwrap(), None);
        assert_eq!(store.get_device(b"d-user", NOW).await.unwrap(), None);
        assert!(
            !store
                .consume_activation_code(user, b"act", NOW)
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .get_access_token_with_user(b"token", NOW)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store.redeem_code(b"code", CLIENT, NOW).await.unwrap(),
            nod_core::grant::Redemption::Unknown
        );
        assert_eq!(store.get_login_request(waiting.id).await.unwrap(), None);
        assert_eq!(store.get_login_request(confirmed.id).await.unwrap(), None);
        assert!(
            store
                .get_login_request(anonymous.id)
                .await
                .unwrap()
                .is_some(),
            "requests of nobody stay"
        );

        // The other user keeps theirs.
        assert_eq!(store.list_consents(other.id).await.unwrap().len(), 1);
        assert_eq!(
            store.list_browsers(other.id, NOW).await.unwrap(),
            [kept_browser]
        );
    })
    .await;
}

#[tokio::test]
async fn an_activation_code_works_once_for_its_user_until_it_expires() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let other = f.user("4791234502").await;
        let user = f.user.id;
        store
            .create_activation_code(user, b"code-1", NOW + 600)
            .await
            .unwrap();
        assert!(
            !store
                .consume_activation_code(user, b"wrong", NOW)
                .await
                .unwrap(),
            "a wrong code"
        );
        assert!(
            !store
                .consume_activation_code(other.id, b"code-1", NOW)
                .await
                .unwrap(),
            "another user's code"
        );
        assert!(
            store
                .consume_activation_code(user, b"code-1", NOW)
                .await
                .unwrap()
        );
        assert!(
            !store
                .consume_activation_code(user, b"code-1", NOW)
                .await
                .unwrap(),
            "spent"
        );

        store
            .create_activation_code(user, b"code-2", NOW + 600)
            .await
            .unwrap();
        assert!(
            !store
                .consume_activation_code(user, b"code-2", NOW + 600)
                .await
                .unwrap(),
            "expired at expires_at"
        );
        assert!(
            store
                .consume_activation_code(user, b"code-2", NOW + 599)
                .await
                .unwrap(),
            "an expired attempt does not spend it"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_activation_code_spent_twice_at_once_works_once() {
    each(|store| async move {
        let f = Fixture::new(store.clone()).await;
        let user = f.user.id;
        for trial in 0..20u8 {
            let code = [b'a', trial];
            store
                .create_activation_code(user, &code, NOW + 600)
                .await
                .unwrap();
            let results = race(4, |_| {
                let store = store.clone();
                async move { store.consume_activation_code(user, &code, NOW).await }
            })
            .await;
            let won = results.into_iter().filter(|r| *r.as_ref().unwrap()).count();
            assert_eq!(won, 1, "trial {trial}");
        }
    })
    .await;
}
