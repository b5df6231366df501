//! Reading a Prometheus text exposition in tests: fetch `/metrics` and add up the series that match.

/// One scrape of a `/metrics` endpoint.
pub struct Scrape {
    text: String,
    series: Vec<Series>,
}

struct Series {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

impl Scrape {
    /// `GET url` (a `/metrics` URL); panics unless the answer is 200 in the text format.
    pub async fn get(url: &str) -> Self {
        let response = reqwest::get(url).await.expect("metrics endpoint answers");
        assert_eq!(response.status(), 200, "GET {url}");
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            content_type.starts_with("text/plain"),
            "content type {content_type}"
        );
        Self::parse(response.text().await.expect("a text body"))
    }

    pub fn parse(text: String) -> Self {
        let series = text
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .map(|line| parse_line(line).unwrap_or_else(|| panic!("unreadable line: {line}")))
            .collect();
        Self { text, series }
    }

    /// The sum of the series named `name` whose labels include every pair in `labels`; 0 when none does.
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.matching(name, labels).map(|series| series.value).sum()
    }

    /// Whether any series named `name` has every pair in `labels`.
    pub fn has(&self, name: &str, labels: &[(&str, &str)]) -> bool {
        self.matching(name, labels).next().is_some()
    }

    /// Every label value of every series.
    pub fn label_values(&self) -> impl Iterator<Item = &str> {
        self.series
            .iter()
            .flat_map(|series| series.labels.iter().map(|(_, value)| value.as_str()))
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    fn matching<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a Series> {
        self.series.iter().filter(move |series| {
            series.name == name
                && labels
                    .iter()
                    .all(|(key, value)| series.labels.iter().any(|(k, v)| k == key && v == value))
        })
    }
}

/// `name{key="value",…} number` or `name number`.
fn parse_line(line: &str) -> Option<Series> {
    let name_end = line.find(['{', ' '])?;
    let name = line[..name_end].to_owned();
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(mut inside) = rest.strip_prefix('{') {
        loop {
            if let Some(after) = inside.strip_prefix('}') {
                rest = after;
                break;
            }
            let (key, after_key) = inside.split_once("=\"")?;
            let mut value = String::new();
            let mut chars = after_key.char_indices();
            let end = loop {
                let (index, c) = chars.next()?;
                match c {
                    '\\' => match chars.next()?.1 {
                        'n' => value.push('\n'),
                        other => value.push(other),
                    },
                    '"' => break index,
                    c => value.push(c),
                }
            };
            labels.push((key.trim_start_matches(',').to_owned(), value));
            inside = after_key[end + 1..].trim_start_matches(',');
        }
    }
    let value = rest.trim().split(' ').next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        number => number.parse().ok()?,
    };
    Some(Series {
        name,
        labels,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_summed_over_the_labels_left_open() {
        let scrape = Scrape::parse(
            "# HELP a_total A.\n# TYPE a_total counter\n\
             a_total{route=\"/x/{id}\",code=\"OK\"} 2\n\
             a_total{route=\"/x/{id}\",code=\"NotFound\"} 3\n\
             b 1.5\n\
             c{v=\"q\\\"uote\"} 1\n"
                .to_owned(),
        );
        assert_eq!(scrape.sum("a_total", &[("route", "/x/{id}")]), 5.0);
        assert_eq!(scrape.sum("a_total", &[("code", "OK")]), 2.0);
        assert_eq!(scrape.sum("b", &[]), 1.5);
        assert!(scrape.has("c", &[("v", "q\"uote")]));
        assert!(!scrape.has("a_total", &[("code", "Internal")]));
    }
}
