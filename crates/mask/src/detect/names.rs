//! PII kinds from column and key names.

use super::{Detection, Evidence, PiiKind};

/// Name patterns, most specific first. A pattern of several words matches them consecutively in
/// the name's tokens (`billing_address_line1` has `address`), compared after splitting snake,
/// kebab and camel case.
const PATTERNS: &[(&str, PiiKind)] = &[
    ("date of birth", PiiKind::DateOfBirth),
    ("birth date", PiiKind::DateOfBirth),
    ("birthdate", PiiKind::DateOfBirth),
    ("birthday", PiiKind::DateOfBirth),
    ("dob", PiiKind::DateOfBirth),
    ("born on", PiiKind::DateOfBirth),
    ("password", PiiKind::Secret),
    ("passwd", PiiKind::Secret),
    ("pwd", PiiKind::Secret),
    ("secret", PiiKind::Secret),
    ("api key", PiiKind::Secret),
    ("apikey", PiiKind::Secret),
    ("access token", PiiKind::Secret),
    ("refresh token", PiiKind::Secret),
    ("auth token", PiiKind::Secret),
    ("token", PiiKind::Secret),
    ("private key", PiiKind::Secret),
    ("otp", PiiKind::Secret),
    ("authorization", PiiKind::Secret),
    ("credentials", PiiKind::Secret),
    ("credential", PiiKind::Secret),
    ("cookie", PiiKind::Secret),
    ("session id", PiiKind::Secret),
    ("sessionid", PiiKind::Secret),
    ("session token", PiiKind::Secret),
    ("session", PiiKind::Secret),
    ("csrf", PiiKind::Secret),
    ("xsrf", PiiKind::Secret),
    ("cvv", PiiKind::Secret),
    ("cvc", PiiKind::Secret),
    ("security code", PiiKind::Secret),
    ("pin", PiiKind::Secret),
    ("ip address", PiiKind::IpAddress),
    ("ip addr", PiiKind::IpAddress),
    ("ipaddr", PiiKind::IpAddress),
    ("ipv4", PiiKind::IpAddress),
    ("ipv6", PiiKind::IpAddress),
    ("ip", PiiKind::IpAddress),
    ("remote addr", PiiKind::IpAddress),
    ("x forwarded for", PiiKind::IpAddress),
    ("email address", PiiKind::Email),
    ("email", PiiKind::Email),
    ("e mail", PiiKind::Email),
    ("mail", PiiKind::Email),
    ("card number", PiiKind::CardNumber),
    ("cardnumber", PiiKind::CardNumber),
    ("credit card", PiiKind::CardNumber),
    ("cc number", PiiKind::CardNumber),
    ("ccnum", PiiKind::CardNumber),
    ("card no", PiiKind::CardNumber),
    ("pan", PiiKind::CardNumber),
    ("ssn", PiiKind::UsSsn),
    ("social security", PiiKind::UsSsn),
    ("nino", PiiKind::UkNino),
    ("ni number", PiiKind::UkNino),
    ("national insurance", PiiKind::UkNino),
    ("national id", PiiKind::NationalId),
    ("passport", PiiKind::NationalId),
    ("driver license", PiiKind::NationalId),
    ("drivers license", PiiKind::NationalId),
    ("driving licence", PiiKind::NationalId),
    ("licence number", PiiKind::NationalId),
    ("license number", PiiKind::NationalId),
    ("tax id", PiiKind::NationalId),
    ("taxpayer id", PiiKind::NationalId),
    ("tin", PiiKind::NationalId),
    ("id card", PiiKind::NationalId),
    ("personal id", PiiKind::NationalId),
    ("cpf", PiiKind::NationalId),
    ("aadhaar", PiiKind::NationalId),
    ("pesel", PiiKind::NationalId),
    ("bsn", PiiKind::NationalId),
    ("iban", PiiKind::BankAccount),
    ("account number", PiiKind::BankAccount),
    ("bank account", PiiKind::BankAccount),
    ("routing number", PiiKind::BankAccount),
    ("sort code", PiiKind::BankAccount),
    ("phone number", PiiKind::Phone),
    ("phone", PiiKind::Phone),
    ("telephone", PiiKind::Phone),
    ("tel", PiiKind::Phone),
    ("mobile", PiiKind::Phone),
    ("cellphone", PiiKind::Phone),
    ("cell", PiiKind::Phone),
    ("msisdn", PiiKind::Phone),
    ("fax", PiiKind::Phone),
    ("first name", PiiKind::FirstName),
    ("firstname", PiiKind::FirstName),
    ("fname", PiiKind::FirstName),
    ("given name", PiiKind::FirstName),
    ("givenname", PiiKind::FirstName),
    ("forename", PiiKind::FirstName),
    ("middle name", PiiKind::FirstName),
    ("last name", PiiKind::LastName),
    ("lastname", PiiKind::LastName),
    ("lname", PiiKind::LastName),
    ("surname", PiiKind::LastName),
    ("family name", PiiKind::LastName),
    ("familyname", PiiKind::LastName),
    ("maiden name", PiiKind::LastName),
    ("username", PiiKind::Username),
    ("user name", PiiKind::Username),
    ("login", PiiKind::Username),
    ("screen name", PiiKind::Username),
    ("nickname", PiiKind::Username),
    ("handle", PiiKind::Username),
    ("full name", PiiKind::Name),
    ("fullname", PiiKind::Name),
    ("display name", PiiKind::Name),
    ("street address", PiiKind::StreetAddress),
    ("address line", PiiKind::StreetAddress),
    ("address", PiiKind::StreetAddress),
    ("street", PiiKind::StreetAddress),
    ("addr", PiiKind::StreetAddress),
    ("postal code", PiiKind::PostalCode),
    ("postcode", PiiKind::PostalCode),
    ("zip code", PiiKind::PostalCode),
    ("zipcode", PiiKind::PostalCode),
    ("zip", PiiKind::PostalCode),
    ("city", PiiKind::City),
    ("town", PiiKind::City),
];

/// Words before `name` that make it a person's name (`customer_name`), as opposed to
/// `product_name` or `file_name`.
const PERSON_WORDS: &[&str] = &[
    "customer",
    "user",
    "contact",
    "person",
    "owner",
    "employee",
    "patient",
    "member",
    "client",
    "recipient",
    "sender",
    "author",
    "holder",
    "cardholder",
    "billing",
    "shipping",
    "ship",
    "legal",
    "account",
    "guest",
    "driver",
    "passenger",
    "student",
    "parent",
    "emergency",
    "real",
    "buyer",
    "seller",
    "applicant",
    "beneficiary",
    "signer",
];

/// Trailing words that make a name describe something about the PII rather than hold it
/// (`email_verified`, `phone_count`, `password_changed_at`).
const META_SUFFIXES: &[&str] = &[
    "verified",
    "confirmed",
    "count",
    "enabled",
    "opt",
    "optin",
    "status",
    "type",
    "sent",
    "at",
    "on",
    "flag",
    "valid",
    "validated",
    "required",
    "length",
    "len",
    "changed",
    "updated",
    "expires",
    "expiry",
    "expired",
    "attempts",
    "policy",
    "format",
    "provider",
    "domain",
    "visible",
    "public",
    "id",
];

/// Splits a column or key name into lowercase word tokens.
pub(crate) fn tokens(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev: Option<char> = None;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev = None;
            continue;
        }
        let boundary = match prev {
            Some(p) => {
                (p.is_lowercase() && c.is_uppercase())
                    || (p.is_alphabetic() && c.is_ascii_digit())
                    || (p.is_ascii_digit() && c.is_alphabetic())
            }
            None => false,
        };
        if boundary && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.extend(c.to_lowercase());
        prev = Some(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn find(tokens: &[String], pattern: &str) -> Option<usize> {
    let words: Vec<&str> = pattern.split(' ').collect();
    if words.len() > tokens.len() {
        return None;
    }
    (0..=tokens.len() - words.len())
        .find(|&i| words.iter().enumerate().all(|(k, w)| tokens[i + k] == *w))
}

/// PII kind suggested by a column or key name, if any.
pub fn detect_name(name: &str) -> Option<Detection> {
    let toks = tokens(name);
    if toks.is_empty() {
        return None;
    }
    if matches!(toks[0].as_str(), "is" | "has" | "num" | "n" | "count") {
        return None;
    }
    for &(pattern, kind) in PATTERNS {
        let Some(at) = find(&toks, pattern) else {
            continue;
        };
        let len = pattern.split(' ').count();
        let after = &toks[at + len..];
        // `email_id`, `phone_verified`: about the PII, not the PII itself. `password_hash` and
        // `address_line1` still count.
        if after
            .last()
            .is_some_and(|t| META_SUFFIXES.contains(&t.as_str()))
        {
            continue;
        }
        let exact = toks.len() == len;
        // Short, ambiguous words only count when they are the whole name or at its end.
        let ambiguous = matches!(
            pattern,
            "ip" | "tel"
                | "cell"
                | "pan"
                | "tin"
                | "mail"
                | "zip"
                | "token"
                | "handle"
                | "login"
                | "dob"
                | "otp"
                | "bsn"
                | "cpf"
                | "town"
                | "street"
                | "fax"
                | "session"
                | "pin"
        );
        if ambiguous && !exact && !after.is_empty() {
            continue;
        }
        let confidence = match (exact, ambiguous) {
            (true, false) => 0.9,
            (true, true) => 0.75,
            (false, false) => 0.75,
            (false, true) => 0.6,
        };
        return Some(Detection::new(
            kind,
            confidence,
            Evidence::Name {
                pattern: pattern.replace(' ', "_"),
            },
        ));
    }
    // Bare `name`, or `<person word>_name`.
    if let Some(at) = toks.iter().position(|t| t == "name") {
        if at + 1 == toks.len() {
            let conf = if toks.len() == 1 {
                Some(0.6)
            } else if PERSON_WORDS.contains(&toks[at - 1].as_str()) {
                Some(0.8)
            } else {
                None
            };
            if let Some(c) = conf {
                return Some(Detection::new(
                    PiiKind::Name,
                    c,
                    Evidence::Name {
                        pattern: "name".into(),
                    },
                ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(n: &str) -> Option<PiiKind> {
        detect_name(n).map(|d| d.kind)
    }

    #[test]
    fn tokenizer_splits_snake_camel_kebab_and_digits() {
        assert_eq!(
            tokens("billingAddressLine1"),
            ["billing", "address", "line", "1"]
        );
        assert_eq!(tokens("E-Mail"), ["e", "mail"]);
        assert_eq!(tokens("user_IP"), ["user", "ip"]);
    }

    #[test]
    fn common_pii_names_are_recognised() {
        let cases = [
            ("email", PiiKind::Email),
            ("contactEmail", PiiKind::Email),
            ("E-Mail", PiiKind::Email),
            ("phone_number", PiiKind::Phone),
            ("mobile", PiiKind::Phone),
            ("first_name", PiiKind::FirstName),
            ("surname", PiiKind::LastName),
            ("customer_name", PiiKind::Name),
            ("name", PiiKind::Name),
            ("shipping_address", PiiKind::StreetAddress),
            ("address_line1", PiiKind::StreetAddress),
            ("ip_address", PiiKind::IpAddress),
            ("last_login_ip", PiiKind::IpAddress),
            ("card_number", PiiKind::CardNumber),
            ("ssn", PiiKind::UsSsn),
            ("ni_number", PiiKind::UkNino),
            ("passport_number", PiiKind::NationalId),
            ("iban", PiiKind::BankAccount),
            ("date_of_birth", PiiKind::DateOfBirth),
            ("dob", PiiKind::DateOfBirth),
            ("password_hash", PiiKind::Secret),
            ("api_key", PiiKind::Secret),
            ("username", PiiKind::Username),
            ("postal_code", PiiKind::PostalCode),
            ("city", PiiKind::City),
        ];
        for (n, k) in cases {
            assert_eq!(kind(n), Some(k), "{n}");
        }
    }

    #[test]
    fn look_alike_names_are_not_flagged() {
        for n in [
            "product_name",
            "file_name",
            "email_verified",
            "phone_count",
            "is_email",
            "password_changed_at",
            "tokens_used_count",
            "description",
            "zip_file",
            "ship_date",
            "tip",
            "pantry",
            "email_id",
        ] {
            assert_eq!(kind(n), None, "{n}");
        }
    }
}
