//! A tiny browser over `TestApp`: keeps cookies, sends forms with the CSRF
//! token of the last page it saw, reads errors next to fields.

use std::collections::HashMap;
use std::sync::Mutex;

use poem::http::{Method, StatusCode};

use crate::common::{PASSWORD, Reply, TestApp};

pub struct Browser<'a> {
    app: &'a TestApp,
    cookies: Mutex<HashMap<String, String>>,
    csrf: Mutex<String>,
    /// Sent with every request (e.g. `x-forwarded-for` behind a trusted proxy).
    headers: Vec<(String, String)>,
}

/// What the browser got back.
pub struct Page {
    pub status: StatusCode,
    pub headers: poem::http::HeaderMap,
    pub text: String,
}

impl Page {
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "page: {}", self.text);
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Where a redirect goes.
    #[track_caller]
    pub fn location(&self) -> &str {
        assert!(
            self.status.is_redirection(),
            "not a redirect: {} {}",
            self.status,
            self.text
        );
        self.header("location").expect("location")
    }

    pub fn has(&self, text: &str) -> bool {
        self.text.contains(text)
    }

    #[track_caller]
    pub fn expect_text(&self, text: &str) -> &Self {
        assert!(self.has(text), "{text:?} not on the page: {}", self.text);
        self
    }

    /// The message shown next to field `name` (`<p class="error" id="NAME-error">`).
    pub fn field_error(&self, name: &str) -> Option<String> {
        let marker = format!("id=\"{name}-error\">");
        let start = self.text.find(&marker)? + marker.len();
        let rest = &self.text[start..];
        let end = rest.find("</p>")?;
        Some(rest[..end].replace("<span class=\"visually-hidden\">Error: </span>", ""))
    }

    /// The value of the first `name="NAME" value="…"` on the page.
    pub fn input_value(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.text.find(&marker)? + marker.len();
        let end = self.text[start..].find('"')?;
        Some(self.text[start..start + end].to_string())
    }
}

/// What a browser posts.
enum Body {
    Form(String),
    Multipart(poem::test::TestForm),
}

fn form_body(fields: &[(&str, &str)]) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in fields {
        serializer.append_pair(key, value);
    }
    serializer.finish()
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: Mutex::new(HashMap::new()),
            csrf: Mutex::new(String::new()),
            headers: Vec::new(),
        }
    }

    /// A browser that sends `name: value` with every request.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// A browser signed in as `email` (a fixture user with the fixture password).
    pub async fn signed_in(app: &'a TestApp, email: &str) -> Self {
        let browser = Self::new(app);
        browser.sign_in(email, PASSWORD).await.expect(303);
        browser
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies
            .lock()
            .unwrap()
            .insert(name.into(), value.into());
    }

    async fn send(&self, method: Method, path: &str, body: Option<Body>) -> Page {
        let mut request = self.app.client.request(method, path);
        let cookies = self
            .cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        if !cookies.is_empty() {
            request = request.header("cookie", cookies);
        }
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        match body {
            Some(Body::Form(body)) => {
                request = request
                    .content_type("application/x-www-form-urlencoded")
                    .body(body);
            }
            Some(Body::Multipart(form)) => request = request.multipart(form),
            None => {}
        }
        let reply = Reply::from(request.send().await.0).await;
        for value in reply.headers.get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let expired = text.to_ascii_lowercase().contains("max-age=0") || value.is_empty();
            let mut cookies = self.cookies.lock().unwrap();
            if expired {
                cookies.remove(name);
            } else {
                cookies.insert(name.into(), value.into());
            }
        }
        let page = Page {
            status: reply.status,
            headers: reply.headers,
            text: reply.text,
        };
        if let Some(token) = page.input_value("csrf_token") {
            *self.csrf.lock().unwrap() = token;
        }
        page
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(Method::GET, path, None).await
    }

    /// Posts a form with the CSRF token of the last page seen.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf.lock().unwrap().clone();
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.send(Method::POST, path, Some(Body::Form(form_body(&all))))
            .await
    }

    /// Posts a form as `multipart/form-data` (with the CSRF token of the
    /// last page seen), with `file` (its name and bytes) in field `file_field`.
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file_field: &str,
        file: Option<(&str, Vec<u8>)>,
    ) -> Page {
        use poem::test::{TestForm, TestFormField};
        let token = self.csrf.lock().unwrap().clone();
        let mut form = TestForm::new().text("csrf_token", token);
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        // A file input with no file chosen still sends an empty part.
        let (name, bytes) = file.unwrap_or(("", Vec::new()));
        form = form.field(
            TestFormField::bytes(bytes)
                .name(file_field.to_string())
                .filename(name.to_string())
                .content_type("application/octet-stream"),
        );
        self.send(Method::POST, path, Some(Body::Multipart(form)))
            .await
    }

    /// Posts a form exactly as given (no CSRF token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.send(Method::POST, path, Some(Body::Form(form_body(fields))))
            .await
    }

    /// Opens the page a form is on, then posts the form from it.
    pub async fn submit(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        self.get(page).await.expect(200);
        self.post(action, fields).await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Page {
        self.submit(
            "/login",
            "/login",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// Follows a redirect.
    pub async fn follow(&self, page: &Page) -> Page {
        let location = page.location().to_string();
        self.get(&location).await
    }
}
