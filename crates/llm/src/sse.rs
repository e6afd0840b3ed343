//! An incremental parser of server-sent events (the `text/event-stream` format): bytes go in as
//! they arrive, complete events come out. Only what chat completions use is kept: the `event`
//! name and the `data` lines (joined with `\n`); comments (`: keep-alive`) and ids are skipped.

/// One dispatched event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

/// Why the bytes are not an event stream.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    #[error("a line of the event stream is not UTF-8")]
    NotUtf8,
    #[error("an event of the stream is larger than {0} bytes")]
    TooLarge(usize),
}

pub struct SseParser {
    buf: Vec<u8>,
    event: Option<String>,
    data: String,
    has_data: bool,
    max_event_bytes: usize,
}

impl SseParser {
    /// `max_event_bytes` bounds the memory one event (or one unterminated line) may take.
    pub fn new(max_event_bytes: usize) -> Self {
        SseParser {
            buf: Vec::new(),
            event: None,
            data: String::new(),
            has_data: false,
            max_event_bytes,
        }
    }

    /// Feeds the next bytes; returns the events they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut start = 0;
        while let Some(pos) = self.buf[start..].iter().position(|b| *b == b'\n') {
            let end = start + pos;
            let mut line = &self.buf[start..end];
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            let line = std::str::from_utf8(line).map_err(|_| SseError::NotUtf8)?;
            // Borrow ends before we touch self again.
            let line = line.to_owned();
            start = end + 1;
            if let Some(event) = self.line(&line)? {
                out.push(event);
            }
        }
        self.buf.drain(..start);
        if self.buf.len() > self.max_event_bytes {
            return Err(SseError::TooLarge(self.max_event_bytes));
        }
        Ok(out)
    }

    /// The event still pending when the stream ends without a blank line.
    pub fn finish(&mut self) -> Result<Option<SseEvent>, SseError> {
        if !self.buf.is_empty() {
            let rest = std::mem::take(&mut self.buf);
            let line = std::str::from_utf8(&rest).map_err(|_| SseError::NotUtf8)?;
            let line = line.trim_end_matches('\r').to_owned();
            if let Some(event) = self.line(&line)? {
                return Ok(Some(event));
            }
        }
        Ok(self.dispatch())
    }

    fn line(&mut self, line: &str) -> Result<Option<SseEvent>, SseError> {
        if line.is_empty() {
            return Ok(self.dispatch());
        }
        if line.starts_with(':') {
            return Ok(None);
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
                if self.data.len() > self.max_event_bytes {
                    return Err(SseError::TooLarge(self.max_event_bytes));
                }
            }
            "event" => self.event = Some(value.to_owned()),
            _ => {}
        }
        Ok(None)
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        if !self.has_data {
            return None;
        }
        self.has_data = false;
        Some(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(events: &[SseEvent]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    #[test]
    fn events_split_anywhere_come_out_whole() {
        let stream = "data: {\"a\":1}\n\n: OPENROUTER PROCESSING\n\ndata: {\"b\":\"Привет\"}\r\n\r\ndata: [DONE]\n\n";
        let bytes = stream.as_bytes();
        // Every split point, including inside the two-byte Cyrillic letters.
        for split in 0..bytes.len() {
            let mut p = SseParser::new(1 << 16);
            let mut events = p.feed(&bytes[..split]).expect("first half");
            events.extend(p.feed(&bytes[split..]).expect("second half"));
            assert_eq!(
                data(&events),
                vec!["{\"a\":1}", "{\"b\":\"Привет\"}", "[DONE]"],
                "split at {split}"
            );
        }
    }

    #[test]
    fn multi_line_data_event_names_and_no_space() {
        let mut p = SseParser::new(1024);
        let events = p
            .feed(b"event: error\ndata:line one\ndata: line two\nid: 7\n\n")
            .expect("events");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event.as_deref(), Some("error"));
        assert_eq!(events[0].data, "line one\nline two");
    }

    #[test]
    fn an_unterminated_last_event_is_kept_at_the_end() {
        let mut p = SseParser::new(1024);
        assert!(p.feed(b"data: tail").expect("feed").is_empty());
        assert_eq!(
            p.finish().expect("finish").map(|e| e.data),
            Some("tail".to_owned())
        );
        assert_eq!(p.finish().expect("again"), None);
    }

    #[test]
    fn bounds_memory_and_refuses_bad_utf8() {
        let mut p = SseParser::new(16);
        assert_eq!(
            p.feed(&[b'x'; 40]).expect_err("too large"),
            SseError::TooLarge(16)
        );
        let mut p = SseParser::new(16);
        assert_eq!(
            p.feed(b"data: \xff\xfe\n").expect_err("utf8"),
            SseError::NotUtf8
        );
    }
}
