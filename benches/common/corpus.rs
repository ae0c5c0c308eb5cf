//! A deterministic corpus for the deflate benchmarks and tests: the kinds of
//! messages WebSocket applications send.
//!
//! * `json`: API responses, arrays of objects with the same keys over and
//!   over, numbers, dates, short texts;
//! * `chat`: chat lines of 50–200 bytes (a nickname, a time, a message);
//! * `english`: running English text;
//! * `random`: bytes no compressor can shrink.
//!
//! Words are drawn from a fixed list with a Zipf-like law (the word of rank
//! r has weight 1/(r + 1)), as in real text, from a small PRNG with fixed
//! seeds: the same bytes on every machine and every run.

#![allow(dead_code)]

/// SplitMix64: a small, good-enough PRNG.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

const WORDS: &[&str] = &[
    "the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "he", "was", "for", "on",
    "are", "with", "as", "I", "his", "they", "be", "at", "one", "have", "this", "from", "or",
    "had", "by", "not", "word", "but", "what", "some", "we", "can", "out", "other", "were", "all",
    "there", "when", "up", "use", "your", "how", "said", "an", "each", "she", "which", "do",
    "their", "time", "if", "will", "way", "about", "many", "then", "them", "write", "would",
    "like", "so", "these", "her", "long", "make", "thing", "see", "him", "two", "has", "look",
    "more", "day", "could", "go", "come", "did", "number", "sound", "no", "most", "people", "my",
    "over", "know", "water", "than", "call", "first", "who", "may", "down", "side", "been", "now",
    "find", "any", "new", "work", "part", "take", "get", "place", "made", "live", "where", "after",
    "back", "little", "only", "round", "man", "year", "came", "show", "every", "good", "me",
    "give", "our", "under", "name", "very", "through", "just", "form", "sentence", "great",
    "think", "say", "help", "low", "line", "differ", "turn", "cause", "much", "mean", "before",
    "move", "right", "boy", "old", "too", "same", "tell", "does", "set", "three", "want", "air",
    "well", "also", "play", "small", "end", "put", "home", "read", "hand", "port", "large",
    "spell", "add", "even", "land", "here", "must", "big", "high", "such", "follow", "act", "why",
    "ask", "men", "change", "went", "light", "kind", "off", "need", "house", "picture", "try",
    "us", "again", "animal", "point", "mother", "world", "near", "build", "self", "earth",
    "father", "head", "stand", "own", "page", "should", "country", "found", "answer", "school",
    "grow", "study", "still", "learn", "plant", "cover", "food", "sun", "four", "between", "state",
    "keep", "eye", "never", "last", "let", "thought", "city", "tree", "cross", "farm", "hard",
    "start", "might", "story", "saw", "far", "sea", "draw", "left", "late", "run", "while",
    "press", "close", "night", "real", "life", "few", "north", "server", "message", "socket",
    "frame", "window", "compress", "latency", "deploy", "request", "browser",
];

const NAMES: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter",
];

/// Draws words with weight 1/(rank + 1).
pub struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    pub fn new(n: usize) -> Zipf {
        let mut total = 0.0;
        let cumulative = (0..n)
            .map(|r| {
                total += 1.0 / (r as f64 + 1.0);
                total
            })
            .collect();
        Zipf { cumulative }
    }

    pub fn pick(&self, rng: &mut Rng) -> usize {
        let total = *self.cumulative.last().unwrap();
        let x = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * total;
        self.cumulative
            .partition_point(|&c| c < x)
            .min(self.cumulative.len() - 1)
    }
}

/// A sentence of `min..max` words, capitalised, with a full stop.
fn sentence(rng: &mut Rng, zipf: &Zipf, min: usize, max: usize) -> String {
    let n = min + rng.below(max - min + 1);
    let mut s = String::new();
    for i in 0..n {
        let w = WORDS[zipf.pick(rng)];
        if i == 0 {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                s.extend(f.to_uppercase());
                s.push_str(c.as_str());
            }
        } else {
            s.push(if rng.below(12) == 0 { ',' } else { ' ' });
            if s.ends_with(',') {
                s.push(' ');
            }
            s.push_str(w);
        }
    }
    s.push(if rng.below(8) == 0 { '?' } else { '.' });
    s
}

/// Running English text, `size` bytes or a little more.
pub fn english(size: usize) -> Vec<u8> {
    let mut rng = Rng::new(1);
    let zipf = Zipf::new(WORDS.len());
    let mut out = String::new();
    while out.len() < size {
        for _ in 0..3 + rng.below(5) {
            out.push_str(&sentence(&mut rng, &zipf, 4, 22));
            out.push(' ');
        }
        out.push_str("\n\n");
    }
    out.into_bytes()
}

/// JSON API responses (one page of 20 records each), `size` bytes or a
/// little more.
pub fn json(size: usize) -> Vec<u8> {
    let mut rng = Rng::new(2);
    let zipf = Zipf::new(WORDS.len());
    let mut out = String::new();
    let mut id = 100_000u64;
    while out.len() < size {
        out.push_str("{\"status\":\"ok\",\"page\":");
        out.push_str(&(id / 20).to_string());
        out.push_str(",\"results\":[");
        for i in 0..20 {
            if i > 0 {
                out.push(',');
            }
            id += 1 + rng.below(7) as u64;
            let name = NAMES[rng.below(NAMES.len())];
            out.push_str(&format!(
                "{{\"id\":{id},\"user\":{{\"name\":\"{name}\",\"email\":\"{name}{}@example.com\",\
                 \"verified\":{}}},\"created_at\":\"2024-{:02}-{:02}T{:02}:{:02}:{:02}Z\",\
                 \"score\":{}.{:03},\"tags\":[\"{}\",\"{}\"],\"text\":\"{}\"}}",
                rng.below(100),
                rng.below(2) == 0,
                1 + rng.below(12),
                1 + rng.below(28),
                rng.below(24),
                rng.below(60),
                rng.below(60),
                rng.below(100),
                rng.below(1000),
                WORDS[zipf.pick(&mut rng)],
                WORDS[zipf.pick(&mut rng)],
                sentence(&mut rng, &zipf, 3, 14),
            ));
        }
        out.push_str("]}\n");
    }
    out.into_bytes()
}

/// Chat lines of 50–200 bytes, `count` of them.
pub fn chat_lines(count: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(3);
    let zipf = Zipf::new(WORDS.len());
    (0..count)
        .map(|i| {
            let target = 50 + rng.below(151);
            let mut line = format!(
                "{{\"t\":\"{:02}:{:02}:{:02}\",\"from\":\"{}\",\"msg\":\"",
                (i / 3600) % 24,
                (i / 60) % 60,
                i % 60,
                NAMES[rng.below(NAMES.len())]
            );
            while line.len() + 2 < target {
                line.push_str(WORDS[zipf.pick(&mut rng)]);
                line.push(' ');
            }
            line.truncate(target - 2);
            line.push_str("\"}");
            line.into_bytes()
        })
        .collect()
}

/// The chat lines as one text, one line each.
pub fn chat(count: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for line in chat_lines(count) {
        out.extend_from_slice(&line);
        out.push(b'\n');
    }
    out
}

/// `size` random bytes.
pub fn random(size: usize) -> Vec<u8> {
    let mut rng = Rng::new(4);
    (0..size).map(|_| rng.next_u64() as u8).collect()
}

/// The bench corpus: (name, bytes), a few hundred KiB each.
pub fn all() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("json", json(300 * 1024)),
        ("chat", chat(2500)),
        ("english", english(300 * 1024)),
        ("random", random(256 * 1024)),
    ]
}
