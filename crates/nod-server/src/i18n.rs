//! The words on Nod's pages in English, Norwegian Bokmål, Danish and Finnish, and the
//! choice among them from `Accept-Language`.

use axum::http::{HeaderMap, header};
use nod_core::scope::Scope;

/// A language Nod's pages speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Lang {
    #[default]
    En,
    Nb,
    Da,
    Fi,
}

impl Lang {
    /// The best language for an `Accept-Language` header (RFC 9110 §12.5.4): the highest
    /// quality among the ones Nod speaks; English when none fits.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Lang {
        let Some(value) = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
        else {
            return Lang::En;
        };
        let mut best = (Lang::En, -1.0f32);
        for item in value.split(',').take(20) {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            let lang = match primary {
                "en" => Lang::En,
                "nb" | "no" | "nn" => Lang::Nb,
                "da" => Lang::Da,
                "fi" => Lang::Fi,
                _ => continue,
            };
            if quality > best.1 {
                best = (lang, quality);
            }
        }
        best.0
    }

    pub(crate) fn texts(self) -> &'static Texts {
        match self {
            Lang::En => &EN,
            Lang::Nb => &NB,
            Lang::Da => &DA,
            Lang::Fi => &FI,
        }
    }
}

/// Every text of the pages, in one language.
pub(crate) struct Texts {
    pub lang: &'static str,
    pub log_in: &'static str,
    pub log_in_to: &'static str,
    pub phone_intro: &'static str,
    pub phone_label: &'static str,
    pub phone_error: &'static str,
    pub too_many: &'static str,
    pub remember_me: &'static str,
    pub remember_hint: &'static str,
    pub next: &'static str,
    pub cancel_return_to: &'static str,
    pub confirm_title: &'static str,
    pub pick_number: &'static str,
    pub number_label: &'static str,
    pub waiting: &'static str,
    pub confirmed_button: &'static str,
    pub share_with: &'static str,
    pub asks_for: &'static str,
    pub accept: &'static str,
    pub cancel: &'static str,
    pub expired_title: &'static str,
    pub expired_text: &'static str,
    pub try_again: &'static str,
    pub return_to: &'static str,
    pub open_app_title: &'static str,
    pub open_app_text: &'static str,
    pub open_app_button: &'static str,
    pub returning: &'static str,
    pub continue_button: &'static str,
    pub js_off: &'static str,
    pub done_title: &'static str,
    pub done_text: &'static str,
    pub back_to_app_title: &'static str,
    pub back_to_app_text: &'static str,
    pub go_back: &'static str,
    /// Label of the request id on error pages.
    pub request_id: &'static str,
    /// Scope descriptions, in the order of [`Scope::ALL`].
    pub scopes: [&'static str; 9],
    /// Error pages: (title, message) by [`Problem`].
    pub problems: [(&'static str, &'static str); 12],
}

impl Texts {
    pub(crate) fn scope(&self, scope: Scope) -> &'static str {
        let i = Scope::ALL.iter().position(|s| *s == scope).unwrap_or(0);
        self.scopes[i]
    }

    pub(crate) fn problem(&self, problem: Problem) -> (&'static str, &'static str) {
        self.problems[problem as usize]
    }
}

/// What went wrong, for an error page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Problem {
    NotFound = 0,
    WrongBrowser = 1,
    FormExpired = 2,
    AlreadyDone = 3,
    Internal = 4,
    UnknownClient = 5,
    BrokenLink = 6,
    BadResumeLink = 7,
    BrokenRedirect = 8,
    Unavailable = 9,
    TooLarge = 10,
    TooManyLogins = 11,
}

pub(crate) static EN: Texts = Texts {
    lang: "en",
    log_in: "Log in",
    log_in_to: "Log in to",
    phone_intro: "Enter your mobile number. You confirm the login in the app on your phone.",
    phone_label: "Mobile number",
    phone_error: "Enter a mobile number with country code, for example +47 912 34 567.",
    too_many: "Too many login attempts for this number right now. Wait a few minutes and try again.",
    remember_me: "Remember me in this browser",
    remember_hint: "Next time you log in here, you will not need the app.",
    next: "Next",
    cancel_return_to: "Cancel and return to",
    confirm_title: "Confirm in the app",
    pick_number: "Open the app on your phone and pick this number to log in to",
    number_label: "Number to pick",
    waiting: "Waiting for your confirmation…",
    confirmed_button: "I have confirmed in the app",
    share_with: "Share with",
    asks_for: "asks for this information from your profile:",
    accept: "Accept and continue",
    cancel: "Cancel",
    expired_title: "Time ran out",
    expired_text: "The login was not confirmed in time. You can try again.",
    try_again: "Try again",
    return_to: "Return to",
    open_app_title: "Confirm in the app",
    open_app_text: "Confirm the login in the app on this phone, then come back here. This page continues by itself.",
    open_app_button: "Open the app",
    returning: "Returning to the shop…",
    continue_button: "Continue",
    js_off: "JavaScript is off: press the button to continue.",
    done_title: "You are logged in",
    done_text: "The login was finished in the app. You can close this window.",
    back_to_app_title: "Go back to the app",
    back_to_app_text: "The login is confirmed. The app takes you back to the shop.",
    go_back: "Go back",
    request_id: "Request id",
    scopes: [
        "Your user id at this service",
        "Name",
        "Email address",
        "Addresses",
        "Phone number",
        "Date of birth",
        "National identity number",
        "Your answers to the merchant's consent questions",
        "",
    ],
    problems: [
        (
            "Login not found",
            "This login does not exist or has been cleaned up. Go back to the shop and start again.",
        ),
        (
            "Wrong browser",
            "This login was started in another browser. Go back to the shop and start the login again here.",
        ),
        (
            "Form expired",
            "This form is no longer valid. Go back and try again.",
        ),
        (
            "Already logged in",
            "This login is complete. Go back to the shop to continue.",
        ),
        (
            "Something went wrong",
            "Nod could not finish this step. Please try again in a moment.",
        ),
        (
            "Unknown shop",
            "The shop that sent you here is not registered (unknown client_id).",
        ),
        (
            "This login link is broken",
            "The shop sent an invalid login request. Go back to the shop and try again.",
        ),
        (
            "Link not valid",
            "This link was already used or is not valid. Go back to the app and try again.",
        ),
        ("Broken redirect", "The shop's return address is not valid."),
        (
            "Try again in a moment",
            "The login service is briefly unavailable. Nothing is lost: reload this page in a moment.",
        ),
        (
            "Too much sent",
            "The form sent more than this page accepts. Go back and try again.",
        ),
        (
            "Too many logins",
            "Too many logins were started from your network just now. Wait a minute and try again.",
        ),
    ],
};

pub(crate) static NB: Texts = Texts {
    lang: "nb",
    log_in: "Logg inn",
    log_in_to: "Logg inn hos",
    phone_intro: "Skriv inn mobilnummeret ditt. Du bekrefter innloggingen i appen på telefonen.",
    phone_label: "Mobilnummer",
    phone_error: "Skriv inn et mobilnummer med landskode, for eksempel +47 912 34 567.",
    too_many: "For mange innloggingsforsøk for dette nummeret akkurat nå. Vent noen minutter og prøv igjen.",
    remember_me: "Husk meg i denne nettleseren",
    remember_hint: "Neste gang du logger inn her, trenger du ikke appen.",
    next: "Neste",
    cancel_return_to: "Avbryt og gå tilbake til",
    confirm_title: "Bekreft i appen",
    pick_number: "Åpne appen på telefonen og velg dette tallet for å logge inn hos",
    number_label: "Tall du skal velge",
    waiting: "Venter på bekreftelsen din …",
    confirmed_button: "Jeg har bekreftet i appen",
    share_with: "Dele med",
    asks_for: "ber om denne informasjonen fra profilen din:",
    accept: "Godta og fortsett",
    cancel: "Avbryt",
    expired_title: "Tiden gikk ut",
    expired_text: "Innloggingen ble ikke bekreftet i tide. Du kan prøve igjen.",
    try_again: "Prøv igjen",
    return_to: "Gå tilbake til",
    open_app_title: "Bekreft i appen",
    open_app_text: "Bekreft innloggingen i appen på denne telefonen, og kom så tilbake hit. Siden går videre av seg selv.",
    open_app_button: "Åpne appen",
    returning: "Går tilbake til butikken …",
    continue_button: "Fortsett",
    js_off: "JavaScript er slått av: trykk på knappen for å fortsette.",
    done_title: "Du er logget inn",
    done_text: "Innloggingen ble fullført i appen. Du kan lukke dette vinduet.",
    back_to_app_title: "Gå tilbake til appen",
    back_to_app_text: "Innloggingen er bekreftet. Appen tar deg tilbake til butikken.",
    go_back: "Gå tilbake",
    request_id: "Forespørsels-ID",
    scopes: [
        "Bruker-ID-en din hos denne tjenesten",
        "Navn",
        "E-postadresse",
        "Adresser",
        "Telefonnummer",
        "Fødselsdato",
        "Fødselsnummer",
        "Svarene dine på butikkens samtykkespørsmål",
        "",
    ],
    problems: [
        (
            "Fant ikke innloggingen",
            "Denne innloggingen finnes ikke eller er ryddet bort. Gå tilbake til butikken og start på nytt.",
        ),
        (
            "Feil nettleser",
            "Innloggingen ble startet i en annen nettleser. Gå tilbake til butikken og start innloggingen her.",
        ),
        (
            "Skjemaet er utløpt",
            "Dette skjemaet er ikke lenger gyldig. Gå tilbake og prøv igjen.",
        ),
        (
            "Allerede logget inn",
            "Innloggingen er fullført. Gå tilbake til butikken for å fortsette.",
        ),
        (
            "Noe gikk galt",
            "Nod kunne ikke fullføre dette steget. Prøv igjen om litt.",
        ),
        (
            "Ukjent butikk",
            "Butikken som sendte deg hit, er ikke registrert (ukjent client_id).",
        ),
        (
            "Innloggingslenken er ødelagt",
            "Butikken sendte en ugyldig innloggingsforespørsel. Gå tilbake til butikken og prøv igjen.",
        ),
        (
            "Ugyldig lenke",
            "Lenken er allerede brukt eller er ikke gyldig. Gå tilbake til appen og prøv igjen.",
        ),
        (
            "Ugyldig returadresse",
            "Butikkens returadresse er ikke gyldig.",
        ),
        (
            "Prøv igjen om litt",
            "Innloggingstjenesten er utilgjengelig en kort stund. Ingenting er tapt: last inn siden på nytt om litt.",
        ),
        (
            "For mye sendt",
            "Skjemaet sendte mer enn denne siden tar imot. Gå tilbake og prøv igjen.",
        ),
        (
            "For mange innlogginger",
            "For mange innlogginger ble startet fra nettverket ditt akkurat nå. Vent et minutt og prøv igjen.",
        ),
    ],
};

pub(crate) static DA: Texts = Texts {
    lang: "da",
    log_in: "Log ind",
    log_in_to: "Log ind hos",
    phone_intro: "Indtast dit mobilnummer. Du bekræfter login i appen på din telefon.",
    phone_label: "Mobilnummer",
    phone_error: "Indtast et mobilnummer med landekode, for eksempel +45 20 12 34 01.",
    too_many: "For mange loginforsøg for dette nummer lige nu. Vent et par minutter, og prøv igen.",
    remember_me: "Husk mig i denne browser",
    remember_hint: "Næste gang du logger ind her, behøver du ikke appen.",
    next: "Næste",
    cancel_return_to: "Annuller og gå tilbage til",
    confirm_title: "Bekræft i appen",
    pick_number: "Åbn appen på din telefon, og vælg dette tal for at logge ind hos",
    number_label: "Tal du skal vælge",
    waiting: "Venter på din bekræftelse …",
    confirmed_button: "Jeg har bekræftet i appen",
    share_with: "Del med",
    asks_for: "beder om disse oplysninger fra din profil:",
    accept: "Accepter og fortsæt",
    cancel: "Annuller",
    expired_title: "Tiden løb ud",
    expired_text: "Login blev ikke bekræftet i tide. Du kan prøve igen.",
    try_again: "Prøv igen",
    return_to: "Gå tilbage til",
    open_app_title: "Bekræft i appen",
    open_app_text: "Bekræft login i appen på denne telefon, og kom så tilbage hertil. Siden fortsætter af sig selv.",
    open_app_button: "Åbn appen",
    returning: "Går tilbage til butikken …",
    continue_button: "Fortsæt",
    js_off: "JavaScript er slået fra: tryk på knappen for at fortsætte.",
    done_title: "Du er logget ind",
    done_text: "Login blev gennemført i appen. Du kan lukke dette vindue.",
    back_to_app_title: "Gå tilbage til appen",
    back_to_app_text: "Login er bekræftet. Appen sender dig tilbage til butikken.",
    go_back: "Gå tilbage",
    request_id: "Anmodnings-ID",
    scopes: [
        "Dit bruger-id hos denne tjeneste",
        "Navn",
        "E-mailadresse",
        "Adresser",
        "Telefonnummer",
        "Fødselsdato",
        "CPR-nummer",
        "Dine svar på butikkens samtykkespørgsmål",
        "",
    ],
    problems: [
        (
            "Login blev ikke fundet",
            "Dette login findes ikke eller er ryddet væk. Gå tilbage til butikken, og start forfra.",
        ),
        (
            "Forkert browser",
            "Login blev startet i en anden browser. Gå tilbage til butikken, og start login her.",
        ),
        (
            "Formularen er udløbet",
            "Denne formular er ikke længere gyldig. Gå tilbage, og prøv igen.",
        ),
        (
            "Allerede logget ind",
            "Login er gennemført. Gå tilbage til butikken for at fortsætte.",
        ),
        (
            "Noget gik galt",
            "Nod kunne ikke gennemføre dette trin. Prøv igen om lidt.",
        ),
        (
            "Ukendt butik",
            "Butikken, der sendte dig hertil, er ikke registreret (ukendt client_id).",
        ),
        (
            "Login-linket virker ikke",
            "Butikken sendte en ugyldig login-anmodning. Gå tilbage til butikken, og prøv igen.",
        ),
        (
            "Ugyldigt link",
            "Linket er allerede brugt eller er ikke gyldigt. Gå tilbage til appen, og prøv igen.",
        ),
        (
            "Ugyldig returadresse",
            "Butikkens returadresse er ikke gyldig.",
        ),
        (
            "Prøv igen om lidt",
            "Login-tjenesten er kortvarigt utilgængelig. Intet er tabt: genindlæs siden om lidt.",
        ),
        (
            "For meget sendt",
            "Formularen sendte mere, end denne side modtager. Gå tilbage, og prøv igen.",
        ),
        (
            "For mange login",
            "For mange login blev startet fra dit netværk lige nu. Vent et minut, og prøv igen.",
        ),
    ],
};

pub(crate) static FI: Texts = Texts {
    lang: "fi",
    log_in: "Kirjaudu",
    log_in_to: "Kirjaudu palveluun",
    phone_intro: "Anna matkapuhelinnumerosi. Vahvistat kirjautumisen puhelimesi sovelluksessa.",
    phone_label: "Matkapuhelinnumero",
    phone_error: "Anna matkapuhelinnumero maatunnuksen kanssa, esimerkiksi +358 40 123 4501.",
    too_many: "Tälle numerolle on juuri nyt liikaa kirjautumisyrityksiä. Odota muutama minuutti ja yritä uudelleen.",
    remember_me: "Muista minut tässä selaimessa",
    remember_hint: "Kun seuraavan kerran kirjaudut tässä, et tarvitse sovellusta.",
    next: "Seuraava",
    cancel_return_to: "Peruuta ja palaa palveluun",
    confirm_title: "Vahvista sovelluksessa",
    pick_number: "Avaa puhelimesi sovellus ja valitse tämä numero kirjautuaksesi palveluun",
    number_label: "Valittava numero",
    waiting: "Odotetaan vahvistustasi …",
    confirmed_button: "Olen vahvistanut sovelluksessa",
    share_with: "Jaetaanko tiedot palvelulle",
    asks_for: "pyytää seuraavia tietoja profiilistasi:",
    accept: "Hyväksy ja jatka",
    cancel: "Peruuta",
    expired_title: "Aika loppui",
    expired_text: "Kirjautumista ei vahvistettu ajoissa. Voit yrittää uudelleen.",
    try_again: "Yritä uudelleen",
    return_to: "Palaa palveluun",
    open_app_title: "Vahvista sovelluksessa",
    open_app_text: "Vahvista kirjautuminen tämän puhelimen sovelluksessa ja palaa sitten tänne. Sivu jatkaa itsestään.",
    open_app_button: "Avaa sovellus",
    returning: "Palataan kauppaan …",
    continue_button: "Jatka",
    js_off: "JavaScript ei ole käytössä: jatka painamalla painiketta.",
    done_title: "Olet kirjautunut sisään",
    done_text: "Kirjautuminen viimeisteltiin sovelluksessa. Voit sulkea tämän ikkunan.",
    back_to_app_title: "Palaa sovellukseen",
    back_to_app_text: "Kirjautuminen on vahvistettu. Sovellus vie sinut takaisin kauppaan.",
    go_back: "Palaa",
    request_id: "Pyynnön tunniste",
    scopes: [
        "Käyttäjätunnuksesi tässä palvelussa",
        "Nimi",
        "Sähköpostiosoite",
        "Osoitteet",
        "Puhelinnumero",
        "Syntymäaika",
        "Henkilötunnus",
        "Vastauksesi kauppiaan suostumuskysymyksiin",
        "",
    ],
    problems: [
        (
            "Kirjautumista ei löytynyt",
            "Tätä kirjautumista ei ole tai se on poistettu. Palaa kauppaan ja aloita alusta.",
        ),
        (
            "Väärä selain",
            "Kirjautuminen aloitettiin toisessa selaimessa. Palaa kauppaan ja aloita kirjautuminen tässä.",
        ),
        (
            "Lomake on vanhentunut",
            "Tämä lomake ei ole enää voimassa. Palaa takaisin ja yritä uudelleen.",
        ),
        (
            "Olet jo kirjautunut",
            "Kirjautuminen on valmis. Jatka palaamalla kauppaan.",
        ),
        (
            "Jokin meni vikaan",
            "Nod ei voinut viedä tätä vaihetta loppuun. Yritä hetken kuluttua uudelleen.",
        ),
        (
            "Tuntematon kauppa",
            "Kauppaa, joka ohjasi sinut tänne, ei ole rekisteröity (tuntematon client_id).",
        ),
        (
            "Kirjautumislinkki on virheellinen",
            "Kauppa lähetti virheellisen kirjautumispyynnön. Palaa kauppaan ja yritä uudelleen.",
        ),
        (
            "Linkki ei kelpaa",
            "Linkki on jo käytetty tai se ei ole voimassa. Palaa sovellukseen ja yritä uudelleen.",
        ),
        (
            "Virheellinen paluuosoite",
            "Kaupan paluuosoite ei ole kelvollinen.",
        ),
        (
            "Yritä hetken kuluttua uudelleen",
            "Kirjautumispalvelu ei ole hetkeen käytettävissä. Mitään ei menetetty: lataa sivu uudelleen hetken kuluttua.",
        ),
        (
            "Liikaa tietoa",
            "Lomake lähetti enemmän kuin tämä sivu ottaa vastaan. Palaa takaisin ja yritä uudelleen.",
        ),
        (
            "Liian monta kirjautumista",
            "Verkostasi aloitettiin juuri liian monta kirjautumista. Odota hetki ja yritä uudelleen.",
        ),
    ],
};

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_headers(&parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn pick(value: &str) -> Lang {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_str(value).unwrap(),
        );
        Lang::from_headers(&headers)
    }

    #[test]
    fn picks_the_best_language_nod_speaks() {
        assert_eq!(pick("nb-NO,nb;q=0.9,en;q=0.8"), Lang::Nb);
        assert_eq!(pick("no"), Lang::Nb);
        assert_eq!(pick("de-DE,da;q=0.7,en;q=0.5"), Lang::Da);
        assert_eq!(pick("fi"), Lang::Fi);
        assert_eq!(pick("sv-SE,en;q=0.1"), Lang::En);
        assert_eq!(pick("en;q=0.2,fi;q=0.9"), Lang::Fi);
        assert_eq!(pick("garbage;;;q=x"), Lang::En);
        assert_eq!(Lang::from_headers(&HeaderMap::new()), Lang::En);
    }

    #[test]
    fn every_language_has_every_text() {
        for t in [&EN, &NB, &DA, &FI] {
            assert!(t.scopes[..8].iter().all(|s| !s.is_empty()), "{}", t.lang);
            assert!(
                t.problems
                    .iter()
                    .all(|(a, b)| !a.is_empty() && !b.is_empty()),
                "{}",
                t.lang
            );
        }
        assert_eq!(NB.scope(Scope::Nin), "Fødselsnummer");
    }
}
