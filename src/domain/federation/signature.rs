//! HTTP signatures as the fediverse uses them (draft-cavage-http-signatures
//! 12, `rsa-sha256` and `hs2019` with RSA keys): the signing string, the
//! `Signature` header, the body `Digest`, and RSA PKCS#1 v1.5 over SHA-256
//! (the `rsa` crate; nothing cryptographic is written here).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::{Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use sha2::{Digest as _, Sha256};

/// Longest `Signature` header read (a 4096-bit signature is 684 characters).
const MAX_HEADER_CHARS: usize = 4096;
/// How far a request's `Date` may be from now, either way (the issue's 12 hours).
pub const MAX_CLOCK_SKEW_SECS: i64 = 12 * 3600;
/// Key size of our actors' keys (what Mastodon uses).
const KEY_BITS: usize = 2048;

/// A parsed `Signature` header.
#[derive(Debug, PartialEq, Eq)]
pub struct SignatureHeader {
    pub key_id: String,
    pub algorithm: Option<String>,
    /// Lower-case names of what was signed, in order.
    pub headers: Vec<String>,
    pub signature: Vec<u8>,
    pub created: Option<i64>,
    pub expires: Option<i64>,
}

/// Reads `keyId="…",algorithm="…",headers="…",signature="…"`.
pub fn parse(value: &str) -> Result<SignatureHeader, String> {
    if value.len() > MAX_HEADER_CHARS {
        return Err("the Signature header is too long".into());
    }
    let (mut key_id, mut algorithm, mut headers, mut signature) = (None, None, None, None);
    let (mut created, mut expires) = (None, None);
    let mut rest = value.trim();
    while !rest.is_empty() {
        let (name, after) = rest
            .split_once('=')
            .ok_or_else(|| format!("a Signature parameter has no value: {rest:.40}"))?;
        let name = name.trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (text, remainder) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted
                    .find('"')
                    .ok_or("a Signature parameter's quote is not closed")?;
                (&quoted[..end], &quoted[end + 1..])
            }
            None => after.split_once(',').map_or((after, ""), |(t, r)| (t, r)),
        };
        let text = text.trim();
        match name.as_str() {
            "keyid" => key_id = Some(text.to_string()),
            "algorithm" => algorithm = Some(text.to_ascii_lowercase()),
            "headers" => {
                headers = Some(
                    text.split_ascii_whitespace()
                        .map(str::to_ascii_lowercase)
                        .collect(),
                );
            }
            "signature" => {
                signature = Some(
                    BASE64
                        .decode(text)
                        .map_err(|_| "the signature is not base64")?,
                );
            }
            "created" => created = Some(text.parse().map_err(|_| "created is not a number")?),
            "expires" => expires = Some(text.parse().map_err(|_| "expires is not a number")?),
            _ => {}
        }
        rest = remainder.trim_start().trim_start_matches(',').trim_start();
    }
    Ok(SignatureHeader {
        key_id: key_id.ok_or("the Signature header has no keyId")?,
        algorithm,
        // The draft's default is `(created)` alone; fediverse servers always list them.
        headers: headers.unwrap_or_else(|| vec!["(created)".into()]),
        signature: signature.ok_or("the Signature header has no signature")?,
        created,
        expires,
    })
}

/// The string the signature covers: one `name: value` line per signed
/// header, `(request-target)` as `post /inbox?query`. `header` gives a
/// request header's value (several values already joined with `, `).
pub fn signing_string<'a>(
    signed: &[String],
    method: &str,
    path_and_query: &str,
    created: Option<i64>,
    expires: Option<i64>,
    header: impl Fn(&str) -> Option<&'a str>,
) -> Result<String, String> {
    let mut lines = Vec::with_capacity(signed.len());
    for name in signed {
        let value = match name.as_str() {
            "(request-target)" => format!("{} {path_and_query}", method.to_ascii_lowercase()),
            "(created)" => created
                .ok_or("(created) is signed but not given")?
                .to_string(),
            "(expires)" => expires
                .ok_or("(expires) is signed but not given")?
                .to_string(),
            other => header(other)
                .ok_or_else(|| format!("the signed header {other} is missing"))?
                .trim()
                .to_string(),
        };
        lines.push(format!("{name}: {value}"));
    }
    Ok(lines.join("\n"))
}

/// What an inbox requires to be signed: the target, the host, the date
/// (or `(created)`), and the digest when there is a body.
pub fn check_coverage(header: &SignatureHeader, has_body: bool) -> Result<(), String> {
    let covers = |name: &str| header.headers.iter().any(|signed| signed == name);
    for name in ["(request-target)", "host"] {
        if !covers(name) {
            return Err(format!("the signature does not cover {name}"));
        }
    }
    if !covers("date") && !covers("(created)") {
        return Err("the signature does not cover the date".into());
    }
    if has_body && !covers("digest") {
        return Err("the signature does not cover the digest of the body".into());
    }
    match header.algorithm.as_deref() {
        None | Some("rsa-sha256" | "hs2019") => Ok(()),
        Some(other) => Err(format!("signature algorithm {other} is not supported")),
    }
}

/// Whether `date` (an HTTP date) is within [`MAX_CLOCK_SKEW_SECS`] of `now`.
pub fn check_date(date: &str, now: i64) -> Result<(), String> {
    let when = httpdate::parse_http_date(date.trim())
        .map_err(|_| format!("the Date header {date:.40} is not an HTTP date"))?;
    let when = when
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        });
    if (when - now).abs() > MAX_CLOCK_SKEW_SECS {
        return Err("the Date header is more than 12 hours from now".into());
    }
    Ok(())
}

/// The `Digest` header of `body`: `SHA-256=<base64>`.
pub fn digest(body: &[u8]) -> String {
    format!("SHA-256={}", BASE64.encode(Sha256::digest(body)))
}

/// Whether a `Digest` header holds the SHA-256 of `body` (other algorithms listed beside it are ignored).
pub fn digest_matches(header: &str, body: &[u8]) -> bool {
    let expected = BASE64.encode(Sha256::digest(body));
    header.split(',').any(|part| {
        part.trim()
            .split_once('=')
            .is_some_and(|(algorithm, value)| {
                algorithm.eq_ignore_ascii_case("sha-256") && value == expected
            })
    })
}

/// Reads a public key in SPKI (`PUBLIC KEY`) or PKCS#1 (`RSA PUBLIC KEY`) PEM.
pub fn public_key(pem: &str) -> Result<RsaPublicKey, String> {
    RsaPublicKey::from_public_key_pem(pem.trim())
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem.trim()))
        .map_err(|_| "the public key is not an RSA key in PEM".into())
}

/// Whether `signature` is `key`'s RSA PKCS#1 v1.5 SHA-256 signature of `text`.
pub fn verify(key: &RsaPublicKey, text: &str, signature: &[u8]) -> bool {
    key.verify(
        Pkcs1v15Sign::new::<Sha256>(),
        &Sha256::digest(text.as_bytes()),
        signature,
    )
    .is_ok()
}

/// An actor's private key, stored as PKCS#8 PEM.
pub fn private_key(pem: &str) -> Result<RsaPrivateKey, String> {
    RsaPrivateKey::from_pkcs8_pem(pem).map_err(|_| "the stored private key is unreadable".into())
}

/// Signs `text` (RSA PKCS#1 v1.5 over SHA-256), base64-encoded.
pub fn sign(key: &RsaPrivateKey, text: &str) -> Result<String, String> {
    key.sign(
        Pkcs1v15Sign::new::<Sha256>(),
        &Sha256::digest(text.as_bytes()),
    )
    .map(|signature| BASE64.encode(signature))
    .map_err(|error| error.to_string())
}

/// The `Signature` header of a request signed by `key_id`.
pub fn header_value(key_id: &str, signed: &[&str], signature: &str) -> String {
    format!(
        "keyId=\"{key_id}\",algorithm=\"rsa-sha256\",headers=\"{}\",signature=\"{signature}\"",
        signed.join(" ")
    )
}

/// A new key pair as `(public SPKI PEM, private PKCS#8 PEM)`.
pub fn generate_key() -> Result<(String, String), String> {
    let private =
        RsaPrivateKey::new(&mut rand::rngs::OsRng, KEY_BITS).map_err(|error| error.to_string())?;
    let public = RsaPublicKey::from(&private)
        .to_public_key_pem(LineEnding::LF)
        .map_err(|error| error.to_string())?;
    let private = private
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|error| error.to_string())?;
    Ok((public, private.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The public key of draft-cavage-http-signatures-12, appendix C.
    const TEST_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDCFENGw33yGihy92pDjZQhl0C3
6rPJj+CvfSC8+q28hxA161QFNUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6
Z4UMR7EOcpfdUE9Hf3m/hs+FUR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJw
oYi+1hqp1fIekaxsyQIDAQAB
-----END PUBLIC KEY-----";

    /// The draft's request: `POST /foo?param=value&pet=dog` with `{"hello": "world"}`.
    fn draft_header(name: &str) -> Option<&'static str> {
        match name {
            "host" => Some("example.com"),
            "date" => Some("Sun, 05 Jan 2014 21:31:40 GMT"),
            "content-type" => Some("application/json"),
            "digest" => Some("SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="),
            "content-length" => Some("18"),
            _ => None,
        }
    }

    fn verifies(header: &str) -> bool {
        let parsed = parse(header).unwrap();
        let text = signing_string(
            &parsed.headers,
            "POST",
            "/foo?param=value&pet=dog",
            None,
            None,
            draft_header,
        )
        .unwrap();
        verify(&public_key(TEST_KEY).unwrap(), &text, &parsed.signature)
    }

    #[test]
    fn the_drafts_test_vectors_verify() {
        // C.2 Basic Test
        assert!(verifies(
            r#"keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date",signature="qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3HMbe8VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0=""#
        ));
        // C.3 All Headers Test
        assert!(verifies(
            r#"keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date content-type digest content-length",signature="vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB1q52LaEUHFv120V01IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE=""#
        ));
        // The same signature over other headers, or a changed request, does not.
        assert!(!verifies(
            r#"keyId="Test",algorithm="rsa-sha256",headers="(request-target) host",signature="qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3HMbe8VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0=""#
        ));
        assert!(digest_matches(
            draft_header("digest").unwrap(),
            br#"{"hello": "world"}"#
        ));
        assert!(!digest_matches(
            draft_header("digest").unwrap(),
            br#"{"hello": "World"}"#
        ));
    }

    #[test]
    fn what_we_sign_verifies_with_our_public_key() {
        let (public, private) = generate_key().unwrap();
        let private = private_key(&private).unwrap();
        let text = "(request-target): post /inbox\nhost: example.org";
        let signature = sign(&private, text).unwrap();
        let header = header_value(
            "https://a/#main-key",
            &["(request-target)", "host"],
            &signature,
        );
        let parsed = parse(&header).unwrap();
        assert_eq!(parsed.key_id, "https://a/#main-key");
        let key = public_key(&public).unwrap();
        assert!(verify(&key, text, &parsed.signature));
        assert!(!verify(
            &key,
            "(request-target): post /other",
            &parsed.signature
        ));
    }

    #[test]
    fn inboxes_refuse_thin_coverage_old_dates_and_odd_headers() {
        let header = parse(
            r#"keyId="k",algorithm="hs2019",headers="(request-target) host date",signature="AA==""#,
        )
        .unwrap();
        assert!(check_coverage(&header, false).is_ok());
        assert!(
            check_coverage(&header, true)
                .unwrap_err()
                .contains("digest")
        );
        let thin = parse(r#"keyId="k",headers="date",signature="AA==""#).unwrap();
        assert!(check_coverage(&thin, false).is_err());
        let other = parse(r#"keyId="k",algorithm="hmac-sha256",headers="(request-target) host date",signature="AA==""#).unwrap();
        assert!(check_coverage(&other, false).unwrap_err().contains("hmac"));
        assert!(parse(r#"keyId="k""#).is_err());
        assert!(parse(r#"keyId="k,signature="AA==""#).is_err());
        assert!(parse(r#"keyId="k",signature="not base64!""#).is_err());
        assert!(parse(&"a".repeat(5000)).is_err());
        let now = 1_389_000_000;
        assert!(check_date("Sun, 05 Jan 2014 21:31:40 GMT", 1_388_957_500).is_ok());
        assert!(check_date("Sun, 05 Jan 2014 21:31:40 GMT", now + 86_400).is_err());
        assert!(check_date("yesterday", now).is_err());
    }
}
