//! The person's side outside a login: registering an app (with an activation code
//! outside test mode), the device behind a bearer token, the profile, and remembered
//! browsers.

use std::net::IpAddr;

use nod_core::login::{Device, RememberedBrowser};
use nod_core::user::User;
use nod_core::{OAuthError, crypto, msisdn};
use uuid::Uuid;

use super::engine::{Result, Service, ServiceError};

/// A registered app and its token (shown once).
#[derive(Debug)]
pub struct NewDevice {
    pub device_id: Uuid,
    pub device_token: String,
}

impl Service {
    /// Registers an app for the person with this phone number: in test mode any active
    /// user's number; otherwise with an activation code from `nod user activation-code`.
    pub async fn register_device(
        &self,
        phone_number: Option<&str>,
        activation_code: Option<&str>,
        address: Option<IpAddr>,
    ) -> Result<NewDevice> {
        let typed =
            phone_number.ok_or_else(|| OAuthError::invalid_request("phone_number is required"))?;
        let phone = msisdn::normalize(typed).ok_or_else(|| {
            OAuthError::invalid_request("phone_number is not a valid mobile number")
        })?;
        let now = self.now();
        let user = self
            .store
            .get_user_by_phone(&phone)
            .await?
            .filter(|u| u.active);
        let user = if self.config.test_mode {
            user.ok_or(ServiceError::UnknownUser)?
        } else {
            let code = activation_code
                .ok_or_else(|| OAuthError::invalid_request("activation_code is required"))?;
            // The same answer for a wrong code and an unknown number: nothing to probe.
            let refused = || ServiceError::Refused("the activation code is wrong, used or expired");
            self.within_limit(
                &self.activation_limiter,
                address,
                "too many attempts from this address; wait a minute",
            )?;
            let code = crypto::normalize_activation_code(code).ok_or_else(refused)?;
            let user = user.ok_or_else(refused)?;
            if !self
                .store
                .consume_activation_code(user.id, &crypto::hash_secret(&code), now)
                .await?
            {
                return Err(refused());
            }
            user
        };
        let token = crypto::random_secret();
        let device = Device {
            id: Uuid::new_v4(),
            user_id: user.id,
            created_at: now,
        };
        self.store
            .create_device(&device, &crypto::hash_secret(&token))
            .await?;
        let how = if self.config.test_mode {
            "test mode"
        } else {
            "activation code"
        };
        self.audit("device_registered", Some(user.id), "", how)
            .await;
        Ok(NewDevice {
            device_id: device.id,
            device_token: token,
        })
    }

    /// The device a bearer token belongs to.
    pub async fn device(&self, token: Option<&str>) -> Result<Device> {
        let token = token.ok_or(ServiceError::InvalidToken(
            "a Bearer device token is required",
        ))?;
        self.store
            .get_device(&crypto::hash_secret(token))
            .await?
            .ok_or(ServiceError::InvalidToken("unknown device token"))
    }

    /// The person's own data.
    pub async fn profile(&self, user_id: Uuid) -> Result<User> {
        self.store
            .get_user(user_id)
            .await?
            .ok_or(ServiceError::InvalidToken(
                "the user of this device no longer exists",
            ))
    }

    /// In test mode only: the users a test app may pretend to be.
    pub async fn test_users(&self) -> Result<Vec<User>> {
        if !self.config.test_mode {
            return Err(ServiceError::NotFound("only in test mode"));
        }
        let mut users = self.store.list_users(100, 0).await?;
        users.retain(|u| u.active);
        Ok(users)
    }

    pub async fn browsers(&self, user_id: Uuid) -> Result<Vec<RememberedBrowser>> {
        Ok(self.store.list_browsers(user_id, self.now()).await?)
    }

    /// Logs a remembered browser out: it needs the app again.
    pub async fn forget_browser(&self, user_id: Uuid, id: &str) -> Result<()> {
        let gone = || ServiceError::NotFound("no such remembered browser");
        let id = Uuid::parse_str(id).map_err(|_| gone())?;
        if !self.store.delete_browser(user_id, id).await? {
            return Err(gone());
        }
        self.audit("browser_forgotten", Some(user_id), "", "").await;
        Ok(())
    }
}
