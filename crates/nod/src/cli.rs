//! The command line: global options every subcommand accepts, and the subcommands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};

#[derive(Parser)]
#[command(
    name = "nod",
    version,
    about = "Nod: phone-confirmed login with OpenID Connect"
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes. Each falls back to its `NOD_*` variable, then to the
/// TOML file given with `--config`, then to its default. Serialized, the settings among
/// them are the TOML keys the flags and variables set (see `config`); unset ones are left
/// out.
#[derive(Args, Serialize)]
pub(crate) struct GlobalArgs {
    /// TOML configuration file.
    #[arg(long, global = true, env = "NOD_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Database URL: `sqlite://path` or `postgres://…` (default `sqlite://nod.db`).
    #[arg(long, global = true, env = "NOD_DATABASE_URL")]
    #[serde(rename = "database_url", skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Address the server listens on (default `127.0.0.1:8080`).
    #[arg(long, global = true, env = "NOD_LISTEN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// Public base URL browsers and merchants use (default `http://localhost:8080`).
    #[arg(long, global = true, env = "NOD_PUBLIC_URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Log format (default `text`).
    #[arg(long, global = true, env = "NOD_LOG_FORMAT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    #[serde(skip)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Bring the database schema up to date.
    Migrate,
    /// Manage sales units (merchants' OAuth clients).
    #[command(subcommand)]
    SalesUnit(SalesUnitCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage partners (partner keys: credentials that act for sales units by MSN).
    #[command(subcommand)]
    Partner(PartnerCommand),
    /// Signing keys: list them, or rotate (a new key published before it signs).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The audit log of security events.
    #[command(subcommand)]
    Audit(AuditCommand),
}

/// `nod serve`'s options; serialized like [`GlobalArgs`].
#[derive(Args, Serialize)]
pub(crate) struct ServeArgs {
    /// Test mode with demo data: seeds test users and a demo sales unit, and lets devices
    /// register without an activation code.
    #[arg(long, env = "NOD_DEMO")]
    #[serde(skip)]
    pub demo: bool,
    /// Authorization code lifetime in seconds (default 60).
    #[arg(long, env = "NOD_CODE_LIFETIME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_lifetime: Option<i64>,
    /// Access token lifetime in seconds (default 600).
    #[arg(long, env = "NOD_ACCESS_TOKEN_LIFETIME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_lifetime: Option<i64>,
    /// Access token lifetime of a merchant-initiated login in seconds (default 300).
    #[arg(long, env = "NOD_CIBA_ACCESS_TOKEN_LIFETIME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ciba_access_token_lifetime: Option<i64>,
    /// Lifetime of a `ciba-redirect` code in seconds (default 30; 300 with --demo).
    #[arg(long, env = "NOD_CIBA_REDIRECT_CODE_LIFETIME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ciba_redirect_code_lifetime: Option<i64>,
    /// Lifetime in seconds of a merchant API token from POST /accesstoken/get, which
    /// authorizes the webhooks API (default: docs/configuration.md).
    #[arg(long, env = "NOD_MERCHANT_TOKEN_LIFETIME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_token_lifetime: Option<i64>,
    /// ID token lifetime in seconds (default 3600).
    #[arg(long, env = "NOD_ID_TOKEN_LIFETIME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_lifetime: Option<i64>,
    /// How long a login request waits for the app, in seconds (default 300).
    #[arg(long, env = "NOD_LOGIN_REQUEST_LIFETIME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_request_lifetime: Option<i64>,
    /// How long a browser stays remembered, in days (default 180).
    #[arg(long, env = "NOD_REMEMBER_DAYS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remember_days: Option<i64>,
    /// How long a registered app's token works without being used, in days (default 90).
    #[arg(long, env = "NOD_DEVICE_IDLE_DAYS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_idle_days: Option<i64>,
    /// Deep link that opens the app on a phone, with a `{ticket}` placeholder.
    #[arg(long, env = "NOD_DEEP_LINK_TEMPLATE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deep_link_template: Option<String>,
    /// Most logins waiting for one person or phone number at once (default 3).
    #[arg(long, env = "NOD_MAX_PENDING_PER_USER")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_pending_per_user: Option<usize>,
    /// Login requests one phone number or person may get in ten minutes, however they end
    /// (default 10).
    #[arg(long, env = "NOD_MAX_REQUESTS_PER_NUMBER_PER_10_MINUTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_requests_per_number_per_10_minutes: Option<u32>,
    /// Phone numbers one address may submit on the login page per minute (default 20).
    #[arg(long, env = "NOD_PHONE_FORM_PER_IP_PER_MINUTE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_form_per_ip_per_minute: Option<u32>,
    /// Device activations one address may make per minute (default 10).
    #[arg(long, env = "NOD_DEVICE_ACTIVATION_PER_IP_PER_MINUTE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_activation_per_ip_per_minute: Option<u32>,
    /// Logins one address may start at the authorization endpoint per minute (default
    /// 300).
    #[arg(long, env = "NOD_AUTHORIZE_PER_IP_PER_MINUTE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorize_per_ip_per_minute: Option<u32>,
    /// Merchant-initiated logins one sales unit may start per minute (default 600).
    #[arg(long, env = "NOD_CIBA_START_PER_CLIENT_PER_MINUTE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ciba_start_per_client_per_minute: Option<u32>,
    /// `user-exists` questions one sales unit may ask per minute (default 600).
    #[arg(long, env = "NOD_USER_EXISTS_PER_CLIENT_PER_MINUTE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_exists_per_client_per_minute: Option<u32>,
    /// Algorithm of the first signing key, on an empty database (default RS256; later
    /// keys: `nod keys rotate`).
    #[arg(long, value_enum, env = "NOD_SIGNING_ALG")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_alg: Option<SigningAlgArg>,
    /// How often the signing keys are reread from the database, in seconds (default 60).
    #[arg(long, env = "NOD_KEY_RELOAD_INTERVAL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_reload_interval: Option<i64>,
    /// Days the audit log keeps an entry (default 365).
    #[arg(long, env = "NOD_AUDIT_RETENTION_DAYS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_retention_days: Option<i64>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum AuthMethodArg {
    #[value(name = "client_secret_basic")]
    ClientSecretBasic,
    #[value(name = "client_secret_post")]
    ClientSecretPost,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum CibaModeArg {
    Poll,
    Ping,
}

#[derive(Subcommand)]
pub(crate) enum SalesUnitCommand {
    /// Register a sales unit and print its credentials.
    Create {
        /// Name shown to people when they log in.
        #[arg(long)]
        name: String,
        /// Allowed redirect URI (repeat for more).
        #[arg(long = "redirect-uri", required = true, num_args = 1..)]
        redirect_uris: Vec<String>,
        /// Client id (default: a new UUID).
        #[arg(long)]
        client_id: Option<String>,
        /// Client secret, at least 32 characters (default: 256 random bits).
        #[arg(long)]
        client_secret: Option<String>,
        /// Token endpoint authentication (default client_secret_basic).
        #[arg(long, value_enum, default_value = "client_secret_basic")]
        auth_method: AuthMethodArg,
        /// Merchant serial number.
        #[arg(long)]
        msn: Option<String>,
        /// Allow the `nin` scope.
        #[arg(long)]
        allow_nin: bool,
        /// Merchant-initiated login delivery mode (default poll).
        #[arg(long, value_enum, default_value = "poll")]
        ciba_mode: CibaModeArg,
        /// Where ping mode notifications go.
        #[arg(long)]
        ciba_notification_endpoint: Option<String>,
        /// Where the Login API's own webhook (CONSENT_REVOKED) is POSTed: an absolute
        /// http or https URL. Webhooks API events are registered by the merchant instead
        /// (POST /webhooks/v1/webhooks; see docs/webhooks.md).
        #[arg(long)]
        webhook_url: Option<String>,
        /// JSON file with the consent questions of merchant-initiated logins (the
        /// `delegatedConsents` shape without answers; see docs/ciba.md).
        #[arg(long)]
        consent_texts: Option<PathBuf>,
    },
    /// List sales units.
    List,
    /// Show one sales unit.
    Show { client_id: String },
    /// Change a sales unit; options not given stay as they are.
    Update {
        client_id: String,
        #[arg(long)]
        name: Option<String>,
        /// Replace the redirect URIs (repeat for more).
        #[arg(long = "redirect-uri", num_args = 1..)]
        redirect_uris: Option<Vec<String>>,
        #[arg(long, value_enum)]
        auth_method: Option<AuthMethodArg>,
        #[arg(long)]
        msn: Option<String>,
        #[arg(long)]
        allow_nin: Option<bool>,
        #[arg(long, value_enum)]
        ciba_mode: Option<CibaModeArg>,
        #[arg(long)]
        ciba_notification_endpoint: Option<String>,
        /// Where CONSENT_REVOKED is POSTed (an absolute http or https URL; "" removes it).
        #[arg(long)]
        webhook_url: Option<String>,
        /// JSON file with the consent questions of merchant-initiated logins.
        #[arg(long)]
        consent_texts: Option<PathBuf>,
        /// Generate a new client secret and print it.
        #[arg(long)]
        rotate_secret: bool,
    },
    /// Delete a sales unit with its consents, codes and tokens.
    Delete { client_id: String },
}

#[derive(Subcommand)]
pub(crate) enum UserCommand {
    /// Create a user.
    Create {
        /// Phone number with country code, e.g. +4791234567.
        #[arg(long)]
        phone_number: String,
        #[arg(long)]
        given_name: String,
        #[arg(long)]
        family_name: String,
        #[arg(long)]
        email: String,
        /// YYYY-MM-DD.
        #[arg(long)]
        birthdate: String,
        /// National identity number, checked against the first address's country and
        /// the birthdate (default: none).
        #[arg(long, default_value = "")]
        nin: String,
        /// Address as JSON (`{"street_address","postal_code","region","country","address_type"}`); repeat for more, at most three.
        #[arg(long = "address")]
        addresses: Vec<String>,
        /// The e-mail address is not verified: userinfo says `email_verified: false`.
        #[arg(long)]
        email_unverified: bool,
    },
    /// Import users from a JSON file: an array of users with userinfo field names
    /// (`email_verified` may be `false`; it is `true` when left out).
    Import { file: PathBuf },
    /// List users.
    List {
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long, default_value_t = 0)]
        offset: i64,
    },
    /// Show a user, by phone number or id.
    Show { user: String },
    /// Delete a user, by phone number or id, with everything tied to them.
    Delete { user: String },
    /// Generate test users for load tests: phone numbers +47 40000000 upwards (user `n`
    /// of `--start`+`n` has +47 4XXXXXXX with that number), each with a consent to every
    /// sales unit and a remembered browser; numbers already registered are skipped.
    Generate {
        /// How many users.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=9_999_999))]
        count: u32,
        /// The first user's number within the range.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=9_999_999))]
        start: u32,
    },
    /// List the user's registered apps, newest first.
    Devices {
        /// The user, by phone number or id.
        user: String,
    },
    /// Log one of the user's apps out (a lost phone): its token stops working at once.
    RevokeDevice {
        /// The user, by phone number or id.
        user: String,
        /// The device's id, as `nod user devices` lists it.
        device_id: uuid::Uuid,
    },
    /// Print a single-use code that registers the user's next app (outside test mode).
    ActivationCode {
        /// The user, by phone number or id.
        user: String,
        /// Minutes the code stays valid (default 15).
        #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(i64).range(1..=10080))]
        minutes: i64,
    },
}

#[derive(Subcommand)]
pub(crate) enum PartnerCommand {
    /// Register a partner and print its credentials.
    Create {
        /// Name operators see.
        #[arg(long)]
        name: String,
        /// Merchant serial number of a sales unit the partner may act for (repeat for more).
        #[arg(long = "msn", required = true, num_args = 1..)]
        msns: Vec<String>,
        /// Client id (default: a new UUID); not one a sales unit has.
        #[arg(long)]
        client_id: Option<String>,
        /// Client secret, at least 32 characters (default: 256 random bits).
        #[arg(long)]
        client_secret: Option<String>,
    },
    /// List partners and the MSNs they act for.
    List,
    /// Delete a partner with its access tokens.
    Delete { client_id: String },
}

#[derive(Subcommand)]
pub(crate) enum KeysCommand {
    /// List the signing keys: which signs, which are published, which are retired.
    List,
    /// Store a new signing key: published at once, signing after `--publish-before`
    /// seconds; the keys it replaces stay published until their last ID token expired.
    Rotate(RotateArgs),
}

/// `nod keys rotate`'s options; serialized like [`GlobalArgs`] (their TOML keys are the
/// server's settings of the same names).
#[derive(Args, Serialize)]
pub(crate) struct RotateArgs {
    /// Algorithm of the new key (default: the `signing_alg` setting, RS256).
    #[arg(long, value_enum, env = "NOD_SIGNING_ALG")]
    #[serde(rename = "signing_alg", skip_serializing_if = "Option::is_none")]
    pub alg: Option<SigningAlgArg>,
    /// Seconds the new key is published before it signs (default 3600).
    #[arg(long, env = "NOD_KEY_PUBLISH_BEFORE")]
    #[serde(rename = "key_publish_before", skip_serializing_if = "Option::is_none")]
    pub publish_before: Option<i64>,
    /// The servers' ID token lifetime in seconds (default 3600): the replaced keys stay
    /// published this long after the new key starts signing, and five minutes more.
    #[arg(long, env = "NOD_ID_TOKEN_LIFETIME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_lifetime: Option<i64>,
}

/// A signing algorithm, as JOSE names it.
#[derive(Clone, Copy, Debug, ValueEnum, Serialize)]
pub(crate) enum SigningAlgArg {
    #[value(name = "RS256")]
    #[serde(rename = "RS256")]
    Rs256,
    #[value(name = "ES256")]
    #[serde(rename = "ES256")]
    Es256,
    #[value(name = "EdDSA")]
    #[serde(rename = "EdDSA")]
    EdDsa,
}

#[derive(Subcommand)]
pub(crate) enum AuditCommand {
    /// List audit entries, newest first.
    List {
        /// Only entries since then: a duration back from now (`90s`, `15m`, `24h`, `7d`)
        /// or a time (`2026-11-26T08:00:00Z`, or Unix seconds).
        #[arg(long)]
        since: Option<String>,
        /// Only entries of this user, by id or phone number.
        #[arg(long)]
        user: Option<String>,
        /// At most this many entries.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(i64).range(1..=100_000))]
        limit: i64,
    },
}
