//! The person's side outside a login: registering an app (with an activation code
//! outside test mode), the device behind a bearer token, the profile, and remembered
//! browsers.

use std::net::IpAddr;

use nod_core::login::{Device, RememberedBrowser};
use nod_core::user::User;
use nod_core::{OAuthError, crypto, msisdn};
use uuid::Uuid;

use super::engine::{Result, Service, ServiceError, audit_entry};
use crate::events::LoginEvent;

/// Longest name a device may be given, in characters.
const MAX_DEVICE_NAME: usize = 64;

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
        name: Option<&str>,
        address: Option<IpAddr>,
    ) -> Result<NewDevice> {
        let typed =
            phone_number.ok_or_else(|| OAuthError::invalid_request("phone_number is required"))?;
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        if name
            .is_some_and(|n| n.chars().count() > MAX_DEVICE_NAME || n.chars().any(char::is_control))
        {
            return Err(OAuthError::invalid_request(
                "name must be at most 64 characters, without control characters",
            )
            .into());
        }
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
            name: name.map(str::to_owned),
            created_at: now,
            last_used_at: now,
            expires_at: now + self.device_idle(),
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

    /// The device a bearer token belongs to. A use pushes its expiry on (at most once a
    /// day: the app's other calls only read).
    pub async fn device(&self, token: Option<&str>) -> Result<Device> {
        let token = token.ok_or(ServiceError::InvalidToken(
            "a Bearer device token is required",
        ))?;
        let now = self.now();
        let mut device = self
            .store
            .get_device(&crypto::hash_secret(token), now)
            .await?
            .ok_or(ServiceError::InvalidToken(
                "unknown, expired or logged-out device token",
            ))?;
        if device.due_for_use(now) {
            device.last_used_at = now;
            device.expires_at = now + self.device_idle();
            self.store
                .use_device(device.id, now, device.expires_at)
                .await?;
        }
        Ok(device)
    }

    /// The person's registered apps.
    pub async fn devices(&self, user_id: Uuid) -> Result<Vec<Device>> {
        Ok(self.store.list_devices(user_id, self.now()).await?)
    }

    /// Logs one of the person's apps out (a lost phone): its token stops working at once,
    /// and its open event stream ends.
    pub async fn revoke_device(&self, user_id: Uuid, id: &str, by: &str) -> Result<()> {
        let gone = || ServiceError::NotFound("no such device");
        let id = Uuid::parse_str(id).map_err(|_| gone())?;
        let detail = format!("{id} by {by}");
        let audit = [audit_entry(
            self.now(),
            "device_revoked",
            Some(user_id),
            "",
            &detail,
        )];
        if !self.store.delete_device(user_id, id, &audit).await? {
            return Err(gone());
        }
        self.events.send(LoginEvent::DeviceRevoked {
            device_id: id,
            user_id,
        });
        Ok(())
    }

    fn device_idle(&self) -> i64 {
        self.config.device_idle_days.saturating_mul(86_400)
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
