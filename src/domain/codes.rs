//! ISO code lists (sorted, so lookups are binary searches).

/// ISO 639-1 language codes.
pub const LANGUAGES: &[&str] = &[
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bi",
    "bm", "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da", "de",
    "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr", "fy",
    "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz", "ia",
    "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj", "kk",
    "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln", "lo",
    "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb", "nd",
    "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa", "pi", "pl",
    "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "sh", "si", "sk",
    "sl", "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti",
    "tk", "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo",
    "wa", "wo", "xh", "yi", "yo", "za", "zh", "zu",
];

/// ISO 3166-1 alpha-2 country codes, plus `XK` (Kosovo), user-assigned but in common use.
pub const COUNTRIES: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "XK", "YE", "YT", "ZA", "ZM", "ZW",
];

/// ISO 4217 currency codes.
pub const CURRENCIES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BHD",
    "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF",
    "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUP", "CVE", "CZK", "DJF",
    "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP",
    "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR",
    "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT",
    "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP",
    "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR",
    "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB",
    "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN",
    "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH",
    "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV", "WST", "XAD",
    "XAF", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XCG", "XDR", "XOF", "XPD", "XPF",
    "XPT", "XSU", "XTS", "XUA", "XXX", "YER", "ZAR", "ZMW", "ZWG",
];

pub fn is_language(code: &str) -> bool {
    LANGUAGES.binary_search(&code).is_ok()
}

pub fn is_country(code: &str) -> bool {
    COUNTRIES.binary_search(&code).is_ok()
}

pub fn is_currency(code: &str) -> bool {
    CURRENCIES.binary_search(&code).is_ok()
}

/// The reader's preferred language in an `Accept-Language` header
/// (`fr-CH, fr;q=0.9, en;q=0.8`): the first tag's two letters, lower-case.
/// Browsers list tags by preference, so their weights are not read.
pub fn preferred_language(accept_language: &str) -> Option<String> {
    let tag = accept_language
        .split(',')
        .filter_map(|tag| tag.split(';').next())
        .map(str::trim)
        .find(|tag| !tag.is_empty() && *tag != "*")?;
    let (code, rest) = tag.split_at_checked(2)?;
    (code.bytes().all(|byte| byte.is_ascii_alphabetic())
        && (rest.is_empty() || rest.starts_with(['-', '_'])))
    .then(|| code.to_ascii_lowercase())
}

/// A set of two-letter languages, as a bitset of the 26 x 26 possible
/// codes: parsing and matching allocate nothing, and it lists its codes in
/// one canonical (alphabetical) order whatever order they were asked in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Languages {
    bits: [u64; 11],
    /// The first one asked for (a reader's preferred language).
    first: Option<[u8; 2]>,
}

impl Languages {
    /// A comma list of language tags as QGIS and browsers send them:
    /// `pt_BR,EN,de-AT` -> `{de, en, pt}` (only the first two letters count,
    /// any case; empty means none). The error names the bad item.
    pub fn parse(lang: Option<&str>) -> Result<Self, String> {
        let mut set = Self::default();
        for code in lang
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            let (head, tail) = code.as_bytes().split_at(code.len().min(2));
            let well_formed = head.len() == 2
                && head.iter().all(u8::is_ascii_alphabetic)
                && tail.len() <= 16
                && match tail {
                    [] => true,
                    [b'_' | b'-', rest @ ..] => {
                        !rest.is_empty()
                            && rest
                                .iter()
                                .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
                    }
                    _ => false,
                };
            match Self::index(head) {
                Some(index) if well_formed => {
                    set.bits[index / 64] |= 1 << (index % 64);
                    set.first.get_or_insert([
                        head[0].to_ascii_lowercase(),
                        head[1].to_ascii_lowercase(),
                    ]);
                }
                _ => {
                    return Err(format!(
                        "lang must be a comma list of language codes such as en or pt_BR, not {}",
                        super::validate::quoted(code)
                    ));
                }
            }
        }
        Ok(set)
    }

    /// The bit of a two-letter code, any case.
    fn index(code: &[u8]) -> Option<usize> {
        match code {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => Some(
                usize::from(a.to_ascii_lowercase() - b'a') * 26
                    + usize::from(b.to_ascii_lowercase() - b'a'),
            ),
            _ => None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    /// Whether `code` (two letters, or a longer tag of which they count) is in the set.
    pub fn contains(&self, code: &str) -> bool {
        code.as_bytes()
            .get(..2)
            .and_then(Self::index)
            .is_some_and(|index| self.bits[index / 64] & (1 << (index % 64)) != 0)
    }

    /// The codes, alphabetically.
    pub fn iter(&self) -> impl Iterator<Item = [u8; 2]> + '_ {
        self.bits
            .iter()
            .enumerate()
            .flat_map(|(word_index, &word)| {
                // The set bits of one word, lowest first.
                std::iter::successors(Some(word), |rest| Some(rest & rest.wrapping_sub(1)))
                    .take_while(|rest| *rest != 0)
                    .filter_map(move |rest| {
                        let index = word_index * 64 + rest.trailing_zeros() as usize;
                        Some([
                            u8::try_from(index / 26).ok()? + b'a',
                            u8::try_from(index % 26).ok()? + b'a',
                        ])
                    })
            })
    }

    /// The first code asked for.
    pub fn first(&self) -> Option<[u8; 2]> {
        self.first
    }

    /// The codes as strings, alphabetically.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter()
            .map(|code| String::from_utf8_lossy(&code).into_owned())
            .collect()
    }
}

impl Languages {
    /// Appends `pt,de,en` to `out`: the first one asked for (it picks the
    /// texts of translated entries), then the others alphabetically (cache
    /// keys are built on every request: no formatting machinery).
    pub fn push_to(&self, out: &mut String) {
        let others = self.iter().filter(|code| Some(*code) != self.first);
        for (n, code) in self.first.into_iter().chain(others).enumerate() {
            if n > 0 {
                out.push(',');
            }
            out.extend(code.map(char::from));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted_and_known_codes_found() {
        for list in [LANGUAGES, COUNTRIES, CURRENCIES] {
            assert!(list.windows(2).all(|pair| pair[0] < pair[1]));
        }
        assert!(is_language("pt") && !is_language("xx"));
        assert!(is_country("BR") && !is_country("XX"));
        assert!(is_currency("EUR") && !is_currency("EURO"));
    }

    #[test]
    fn the_first_accepted_language_is_preferred() {
        assert_eq!(
            preferred_language("fr-CH, fr;q=0.9, en;q=0.8").as_deref(),
            Some("fr")
        );
        assert_eq!(preferred_language(" DE ").as_deref(), Some("de"));
        assert_eq!(preferred_language("*, en").as_deref(), Some("en"));
        for none in ["", "*", "english", "1x", "é"] {
            assert_eq!(preferred_language(none), None, "{none}");
        }
    }

    fn listed(set: &Languages) -> String {
        let mut text = String::new();
        set.push_to(&mut text);
        text
    }

    #[test]
    fn language_lists_keep_the_first_two_letters() {
        let set = Languages::parse(Some(" pt_BR,EN ,de-AT,pt")).unwrap();
        assert_eq!(set.to_vec(), ["de", "en", "pt"]);
        assert_eq!(listed(&set), "pt,de,en");
        assert_eq!(set.first(), Some(*b"pt"));
        assert!(set.contains("pt") && set.contains("en_US") && !set.contains("fr"));
        assert!(Languages::parse(Some("")).unwrap().is_empty());
        assert_eq!(listed(&Languages::parse(Some("zz,aa")).unwrap()), "zz,aa");
        assert_eq!(
            Languages::parse(Some("fr,de")).unwrap(),
            Languages::parse(Some("fr,de,FR_ch")).unwrap()
        );
        for bad in ["e", "english!", "pt_", "p1", "ü", "pt_BR!", "é1"] {
            assert!(Languages::parse(Some(bad)).is_err(), "{bad}");
        }
    }
}
