//! The entry form's translations: a part of the form per language (tabs
//! with the page's script), added and removed by sending the form without
//! it. Which languages and texts are allowed is the domain's to say.

use crate::domain::entry::{EntryFields, TRANSLATION_PARTS, translation_field, translation_name};
use crate::domain::{EntryKind, FieldError};
use crate::web::display::{self, Choice, with_blank};
use crate::web::forms::{self, Form, FormState, TRANSLATIONS, translation_codes};

/// The button that removes a translation; its value is the language.
const REMOVE: &str = "translation_remove";
/// Set on the form shown again after a language was added: its title gets the focus.
const ADDED: &str = "translation_added";

/// One language's part of the form: its inputs' names and how it is labelled.
pub struct TranslationTab {
    pub code: String,
    /// `French (fr)`.
    pub label: String,
    pub title: String,
    pub content: String,
    pub call_to_action: String,
    pub image_alt: String,
    /// Some of its texts need attention.
    pub invalid: bool,
    /// Just added without the script: its title takes the focus.
    pub focus: bool,
}

impl TranslationTab {
    fn new(code: &str, label: String) -> Self {
        let name = |part| translation_name(code, part);
        Self {
            code: code.to_string(),
            label,
            title: name("title"),
            content: name("content"),
            call_to_action: name("call_to_action"),
            image_alt: name("image_alt"),
            invalid: false,
            focus: false,
        }
    }

    /// The part the script copies for a language it adds (`__code__` and
    /// `__label__` stand for the language).
    pub fn template() -> Self {
        Self::new("__code__", "__label__".into())
    }
}

/// The translations a form shows, in the order of their codes.
pub fn tabs(form: &FormState) -> Vec<TranslationTab> {
    translation_codes(form.values.keys().map(String::as_str))
        .iter()
        .map(|code| TranslationTab {
            invalid: form.errors.iter().any(|error| {
                translation_field(&error.field).is_some_and(|(failed, _)| failed == code)
            }),
            focus: form.is(ADDED, code),
            ..TranslationTab::new(code, display::language_label(code))
        })
        .collect()
}

/// The languages a translation may be added in: not the main one, none twice.
pub fn choices(form: &FormState) -> Vec<Choice> {
    let present = translation_codes(form.values.keys().map(String::as_str));
    let offered = display::languages().into_iter().filter(|choice| {
        !choice.value.is_empty()
            && choice.value != form.value("language")
            && !present.contains(&choice.value)
    });
    with_blank("Choose a language", offered)
}

/// Whether the form was sent by "Add a translation" or a "Remove" button.
pub fn rearranges(form: &Form) -> bool {
    form.text("intent") == "translate" || form.has(REMOVE)
}

/// Applies "Add a translation" (empty inputs in the chosen language) or
/// "Remove" (its inputs gone) to `form`; nothing is stored. The errors are
/// the domain's about the list of languages (one it does not know, the main
/// language, too many): the texts of a new one are yet to be typed.
pub fn rearrange(
    form: &mut Form,
    kind: EntryKind,
    base: &EntryFields,
    content_max_chars: usize,
) -> Vec<FieldError> {
    if let Some(code) = form.optional(REMOVE).map(str::to_string) {
        form.remove_where(|name| {
            name == REMOVE || translation_field(name).is_some_and(|(of, _)| of == code)
        });
        return Vec::new();
    }
    let code = form.text(TRANSLATIONS).trim().to_ascii_lowercase();
    if code.is_empty() {
        return vec![FieldError::new(
            TRANSLATIONS,
            "choose the language of the translation to add",
        )];
    }
    form.set(TRANSLATIONS, "");
    form.set(ADDED, &code);
    for part in TRANSLATION_PARTS {
        let name = translation_name(&code, part);
        if !form.has(&name) {
            form.set(&name, "");
        }
    }
    let (patch, _) = forms::entry_patch(form);
    forms::all_errors(kind, patch, base, Vec::new(), content_max_chars)
        .into_iter()
        .filter(|error| error.field == TRANSLATIONS)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Form {
        Form::from_pairs(
            pairs
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
        )
    }

    const MAX: usize = 500;

    #[test]
    fn a_language_is_added_empty_and_removed_whole() {
        let base = EntryFields::default();
        let mut sent = form(&[
            ("language", "de"),
            ("translations", "FR"),
            ("intent", "translate"),
        ]);
        assert!(rearranges(&sent));
        assert_eq!(
            rearrange(&mut sent, EntryKind::Announcement, &base, MAX),
            []
        );
        let shown = FormState::new(sent.values());
        let tabs = tabs(&shown);
        assert_eq!(tabs.len(), 1);
        assert_eq!(
            (
                tabs[0].label.as_str(),
                tabs[0].title.as_str(),
                tabs[0].focus
            ),
            ("French (fr)", "translations.fr.title", true)
        );
        let offered = choices(&shown);
        assert!(!offered.iter().any(|c| c.value == "fr" || c.value == "de"));
        let mut again = form(&[
            ("translations.fr.title", "Bonjour"),
            ("translations.fr.content", ""),
            ("translation_remove", "fr"),
        ]);
        assert!(rearranges(&again));
        assert_eq!(
            rearrange(&mut again, EntryKind::Announcement, &base, MAX),
            []
        );
        assert_eq!(again.values(), HashMap::new());
    }

    #[test]
    fn the_domain_says_which_languages_may_be_added() {
        let base = EntryFields::default();
        for (code, why) in [("de", "main language"), ("zz", "not an ISO 639-1")] {
            let mut sent = form(&[("language", "de"), ("translations", code)]);
            let errors = rearrange(&mut sent, EntryKind::Announcement, &base, MAX);
            assert_eq!(errors.len(), 1, "{code}");
            assert_eq!(errors[0].field, "translations");
            assert!(errors[0].message.contains(why), "{}", errors[0].message);
        }
        let mut nothing = form(&[("translations", "")]);
        let errors = rearrange(&mut nothing, EntryKind::Announcement, &base, MAX);
        assert_eq!(errors[0].field, "translations");
    }
}
