//! permessage-deflate negotiation (RFC 7692 §5, §7.1) through real
//! handshake heads: the client's offer goes out in a request and is read
//! back by the server's parser, the server's answer goes out in a `101` and
//! is read back by the client's.
//!
//! 1. every example of RFC 7692 §5.2 and §7.1.3, and the cases the text of
//!    §7.1.1 and §7.1.2 describes;
//! 2. what browsers and the common libraries offer;
//! 3. several offers, in one field and over several, in preference order;
//! 4. each "a server MUST decline" case (§7), one test each: the offer is
//!    declined and the next one accepted;
//! 5. each "a client MUST fail" case (§7), one test each;
//! 6. properties: for any client and server options the two ends agree on
//!    the same parameters, within both sides' limits; any offer built from
//!    the parameters' grammar is accepted exactly when it is valid; no
//!    input panics.

use quickcheck::{Arbitrary, Gen, TestResult};
#[path = "common/qc.rs"]
mod qc;
use qc::{below, check};
use wslite::handshake::{
    accept_key, write_accept_response, write_request, ClientKey, ClientRequest, Header, Limits,
    RequestParser, ResponseParser, Status,
};
use wslite::permessage_deflate::negotiation::{
    check_response, negotiate, write_offer, write_offer_str, write_response_str, Agreed,
    DeflateOptions, Direction, MAX_OFFER_LEN, MAX_RESPONSE_LEN,
};
use wslite::protocol::Role;
use wslite::Error;

const KEY: &[u8; 24] = b"dGhlIHNhbXBsZSBub25jZQ==";
const DEFAULT: DeflateOptions = DeflateOptions::DEFAULT;

// ----------------------------------------------------------------------
// Helpers: heads with the given Sec-WebSocket-Extensions fields
// ----------------------------------------------------------------------

/// An opening request with one `Sec-WebSocket-Extensions` field per line.
fn request(lines: &[&str]) -> Vec<u8> {
    let mut head = String::from(
        "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n",
    );
    for line in lines {
        head.push_str(&format!("Sec-WebSocket-Extensions: {line}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// What a server with `options` agrees to, given the request `head`.
fn choice_for_head(head: &[u8], options: &DeflateOptions) -> Option<Agreed> {
    let mut headers = [Header::EMPTY; 32];
    let Status::Complete((_, request)) = RequestParser::new(Limits::default())
        .parse(head, &mut headers)
        .unwrap()
    else {
        panic!("the request is complete");
    };
    request.validate_upgrade().unwrap();
    negotiate(request.extensions(), options)
}

/// What a server with `options` agrees to, given these extension fields.
fn server_choice(lines: &[&str], options: &DeflateOptions) -> Option<Agreed> {
    choice_for_head(&request(lines), options)
}

/// The element a server with `options` answers with, if it accepts.
fn server_answer(lines: &[&str], options: &DeflateOptions) -> Option<String> {
    let agreed = server_choice(lines, options)?;
    let mut out = [0; MAX_RESPONSE_LEN];
    Some(write_response_str(&agreed, &mut out).unwrap().to_owned())
}

/// A `101` answering [`KEY`] with one `Sec-WebSocket-Extensions` field per
/// line.
fn response(lines: &[&str]) -> Vec<u8> {
    let accept = std::str::from_utf8(&accept_key(KEY)).unwrap().to_owned();
    let mut head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n"
    );
    for line in lines {
        head.push_str(&format!("Sec-WebSocket-Extensions: {line}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// What a client that offered `offered` makes of the answer `head`.
fn check_head(head: &[u8], offered: &DeflateOptions) -> Result<Option<Agreed>, Error> {
    let mut headers = [Header::EMPTY; 32];
    let Status::Complete((_, response)) = ResponseParser::new(Limits::default())
        .parse(head, &mut headers)
        .unwrap()
    else {
        panic!("the response is complete");
    };
    check_response(response.extensions(), offered)
}

/// What a client that offered `offered` makes of these extension fields.
fn client_check(lines: &[&str], offered: &DeflateOptions) -> Result<Option<Agreed>, Error> {
    check_head(&response(lines), offered)
}

fn offer(options: &DeflateOptions) -> String {
    let mut out = [0; MAX_OFFER_LEN];
    write_offer_str(options, &mut out).unwrap().to_owned()
}

fn windows(server: u8, client: u8) -> Agreed {
    Agreed::DEFAULT
        .with_server_max_window_bits(server)
        .with_client_max_window_bits(client)
}

// ----------------------------------------------------------------------
// 1. RFC 7692's examples (§5.2, §7.1.3) and the cases of §7.1.1, §7.1.2
// ----------------------------------------------------------------------

#[test]
fn section_5_2_offers_of_other_extensions_are_not_ours() {
    for lines in [
        &["permessage-foo"][..],
        &["permessage-foo; x=10"],
        &["permessage-foo; x=\"10\""],
        &["permessage-foo, permessage-bar"],
        &["permessage-foo; use_y, permessage-foo"],
    ] {
        assert_eq!(server_choice(lines, &DEFAULT), None, "{lines:?}");
    }
    // After them, ours is found.
    assert_eq!(
        server_choice(
            &["permessage-foo; x=\"10, 11\", permessage-deflate"],
            &DEFAULT
        ),
        Some(Agreed::DEFAULT)
    );
}

#[test]
fn section_5_2_a_value_may_be_quoted() {
    let quoted = "permessage-deflate; client_max_window_bits=\"10\"";
    let bare = "permessage-deflate; client_max_window_bits=10";
    assert_eq!(server_choice(&[quoted], &DEFAULT), Some(windows(15, 10)));
    assert_eq!(
        server_choice(&[quoted], &DEFAULT),
        server_choice(&[bare], &DEFAULT)
    );
    assert_eq!(
        client_check(
            &["permessage-deflate; server_max_window_bits=\"9\""],
            &DEFAULT
        )
        .unwrap(),
        Some(windows(9, 15))
    );
}

#[test]
fn section_7_1_3_the_simplest_offer_and_answer() {
    // "Sec-WebSocket-Extensions: permessage-deflate", and the same back.
    assert_eq!(
        server_answer(&["permessage-deflate"], &DEFAULT).as_deref(),
        Some("permessage-deflate")
    );
    assert_eq!(
        client_check(&["permessage-deflate"], &DEFAULT).unwrap(),
        Some(Agreed::DEFAULT)
    );
    // "the server must not accept the offer with an extension negotiation
    // response that includes the client_max_window_bits extension
    // parameter", even a server that would like to limit the client.
    let small = DeflateOptions::new().with_client_max_window_bits(10);
    assert_eq!(
        server_answer(&["permessage-deflate"], &small).as_deref(),
        Some("permessage-deflate")
    );
    let agreed = server_choice(&["permessage-deflate"], &small).unwrap();
    assert_eq!(agreed.receiving(Role::Server).window_bits, 15);
}

#[test]
fn section_7_1_3_asking_for_a_1024_byte_window() {
    // The RFC folds the field over lines for readability; the value is:
    let offer = "permessage-deflate; client_max_window_bits; server_max_window_bits=10";
    assert_eq!(
        server_answer(&[offer], &DEFAULT).as_deref(),
        Some("permessage-deflate; server_max_window_bits=10")
    );
    let asked = DeflateOptions::new().with_server_max_window_bits(10);
    // Ours writes the same parameters in the order of §7.
    assert_eq!(
        self::offer(&asked),
        "permessage-deflate; server_max_window_bits=10; client_max_window_bits"
    );
    assert_eq!(
        client_check(&["permessage-deflate; server_max_window_bits=10"], &asked).unwrap(),
        Some(windows(10, 15))
    );
}

#[test]
fn section_7_1_3_the_offer_with_a_fallback() {
    let lines = [
        "permessage-deflate; client_max_window_bits; server_max_window_bits=10, \
         permessage-deflate; client_max_window_bits",
    ];
    // "The server can accept permessage-deflate by picking any supported
    // one": ours supports the first, and takes it.
    assert_eq!(
        server_answer(&lines, &DEFAULT).as_deref(),
        Some("permessage-deflate; server_max_window_bits=10")
    );
    // Each of the RFC's two answers, to a client that offered that option.
    let first = DeflateOptions::new().with_server_max_window_bits(10);
    assert_eq!(
        client_check(&["permessage-deflate; server_max_window_bits=10"], &first).unwrap(),
        Some(windows(10, 15))
    );
    assert_eq!(
        client_check(&["permessage-deflate"], &DEFAULT).unwrap(),
        Some(Agreed::DEFAULT)
    );
}

#[test]
fn section_7_1_1_1_server_no_context_takeover() {
    // Asked for: the answer repeats it (and must, see the failures below).
    assert_eq!(
        server_answer(
            &["permessage-deflate; server_no_context_takeover"],
            &DEFAULT
        )
        .as_deref(),
        Some("permessage-deflate; server_no_context_takeover")
    );
    // "A server MAY include [it] ... even if the offer ... didn't".
    let resets = DeflateOptions::new().with_server_no_context_takeover(true);
    assert_eq!(
        server_answer(&["permessage-deflate"], &resets).as_deref(),
        Some("permessage-deflate; server_no_context_takeover")
    );
    let agreed = client_check(
        &["permessage-deflate; server_no_context_takeover"],
        &DEFAULT,
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        agreed.receiving(Role::Client),
        Direction {
            window_bits: 15,
            no_context_takeover: true
        }
    );
}

#[test]
fn section_7_1_1_2_client_no_context_takeover() {
    // A hint in the offer: repeated, so our inflater may drop its window.
    let offer = "permessage-deflate; client_no_context_takeover";
    assert_eq!(
        server_answer(&[offer], &DEFAULT).as_deref(),
        Some("permessage-deflate; client_no_context_takeover")
    );
    // A server MAY include it unasked; "A client MUST support" it.
    let requires = DeflateOptions::new().with_client_no_context_takeover(true);
    assert_eq!(
        server_answer(&["permessage-deflate"], &requires).as_deref(),
        Some("permessage-deflate; client_no_context_takeover")
    );
    let agreed = client_check(&[offer], &DEFAULT).unwrap().unwrap();
    assert!(agreed.sending(Role::Client).no_context_takeover);
    // Hinted but not repeated: the client keeps its word (§7.2.1 lets it),
    // while the server, as §7.2.2 requires, keeps its window.
    let agreed = client_check(&["permessage-deflate"], &requires)
        .unwrap()
        .unwrap();
    assert!(agreed.sending(Role::Client).no_context_takeover);
    let server = server_choice(&["permessage-deflate; client_max_window_bits"], &DEFAULT);
    assert!(!server.unwrap().receiving(Role::Server).no_context_takeover);
}

#[test]
fn section_7_1_2_1_server_max_window_bits() {
    // The answer carries the same or a smaller value.
    let offer = "permessage-deflate; server_max_window_bits=10";
    for (ours, agreed) in [(15, 10), (12, 10), (10, 10), (9, 9), (8, 8)] {
        let options = DeflateOptions::new().with_server_max_window_bits(ours);
        let choice = server_choice(&[offer], &options).unwrap();
        assert_eq!(choice.sending(Role::Server).window_bits, agreed);
        assert_eq!(
            server_answer(&[offer], &options).unwrap(),
            format!("permessage-deflate; server_max_window_bits={agreed}")
        );
    }
    // A request for 15 is accepted by naming 15: a strict client (such as
    // python-websockets) fails an answer that leaves it out.
    assert_eq!(
        server_answer(&["permessage-deflate; server_max_window_bits=15"], &DEFAULT).as_deref(),
        Some("permessage-deflate; server_max_window_bits=15")
    );
    // A server may name it unasked, and the client reads it.
    let options = DeflateOptions::new().with_server_max_window_bits(11);
    assert_eq!(
        server_answer(&["permessage-deflate"], &options).as_deref(),
        Some("permessage-deflate; server_max_window_bits=11")
    );
    let agreed = client_check(&["permessage-deflate; server_max_window_bits=11"], &DEFAULT);
    assert_eq!(
        agreed.unwrap().unwrap().receiving(Role::Client).window_bits,
        11
    );
}

#[test]
fn section_7_1_2_2_client_max_window_bits() {
    // Offered bare: the server may limit the client, and names the limit.
    let bare = "permessage-deflate; client_max_window_bits";
    for (ours, answer) in [
        (15, "permessage-deflate"),
        (12, "permessage-deflate; client_max_window_bits=12"),
        (8, "permessage-deflate; client_max_window_bits=8"),
    ] {
        let options = DeflateOptions::new().with_client_max_window_bits(ours);
        assert_eq!(server_answer(&[bare], &options).as_deref(), Some(answer));
        assert_eq!(
            server_choice(&[bare], &options)
                .unwrap()
                .receiving(Role::Server)
                .window_bits,
            ours
        );
    }
    // Offered with a hint: the server uses it, and repeats it (even 15).
    for (hint, ours, agreed) in [(12, 15, 12), (12, 10, 10), (15, 15, 15), (9, 12, 9)] {
        let offer = format!("permessage-deflate; client_max_window_bits={hint}");
        let options = DeflateOptions::new().with_client_max_window_bits(ours);
        assert_eq!(
            server_answer(&[&offer], &options).unwrap(),
            format!("permessage-deflate; client_max_window_bits={agreed}")
        );
    }
    // Not offered: the answer must not name it, and the server inflates
    // with 32 KiB whatever it would have liked.
    let options = DeflateOptions::new().with_client_max_window_bits(9);
    let choice = server_choice(&["permessage-deflate"], &options).unwrap();
    assert_eq!(choice.receiving(Role::Server).window_bits, 15);
    // The client: the answer's limit binds it ...
    let ours = DEFAULT;
    let agreed = client_check(&["permessage-deflate; client_max_window_bits=10"], &ours);
    assert_eq!(
        agreed.unwrap().unwrap().sending(Role::Client).window_bits,
        10
    );
    // ... and its own hint stands when the answer allows more or says
    // nothing (§7.1.2.2: "the client is not going to use an LZ77 sliding
    // window size greater than" its hint).
    let ours = DeflateOptions::new().with_client_max_window_bits(10);
    for answer in [
        "permessage-deflate",
        "permessage-deflate; client_max_window_bits=12",
        "permessage-deflate; client_max_window_bits=15",
    ] {
        let agreed = client_check(&[answer], &ours).unwrap().unwrap();
        assert_eq!(agreed.sending(Role::Client).window_bits, 10, "{answer}");
    }
    let agreed = client_check(&["permessage-deflate; client_max_window_bits=9"], &ours);
    assert_eq!(
        agreed.unwrap().unwrap().sending(Role::Client).window_bits,
        9
    );
}

#[test]
fn a_decline_is_no_element_and_the_client_goes_on_uncompressed() {
    assert_eq!(client_check(&[], &DEFAULT).unwrap(), None);
    assert_eq!(client_check(&["x-other; a=1"], &DEFAULT).unwrap(), None);
    assert_eq!(server_choice(&[], &DEFAULT), None);
}

#[test]
fn names_and_whitespace_follow_the_grammar() {
    let offer = "PerMessage-Deflate ;\tServer_Max_Window_Bits = \"12\" ; CLIENT_MAX_WINDOW_BITS";
    let options = DeflateOptions::new().with_client_max_window_bits(11);
    assert_eq!(server_choice(&[offer], &options), Some(windows(12, 11)));
    let answer = "PERMESSAGE-DEFLATE; Server_No_Context_Takeover ;client_max_window_bits=\t9";
    assert_eq!(
        client_check(&[answer], &DEFAULT).unwrap(),
        Some(
            Agreed::DEFAULT
                .with_server_no_context_takeover(true)
                .with_client_max_window_bits(9)
        )
    );
}

// ----------------------------------------------------------------------
// 2. What browsers and libraries offer
// ----------------------------------------------------------------------

#[test]
fn browser_and_library_offers_are_accepted() {
    // Chromium, Firefox, python-websockets (its default client) and Node's
    // ws all send the same offer.
    for (who, offer) in [
        ("chromium", "permessage-deflate; client_max_window_bits"),
        ("firefox", "permessage-deflate; client_max_window_bits"),
        (
            "python-websockets",
            "permessage-deflate; client_max_window_bits",
        ),
        ("node ws", "permessage-deflate; client_max_window_bits"),
    ] {
        assert_eq!(
            server_answer(&[offer], &DEFAULT).as_deref(),
            Some("permessage-deflate"),
            "{who}"
        );
        // A server that saves memory, like python-websockets' default one.
        let saving = DeflateOptions::new()
            .with_server_max_window_bits(12)
            .with_client_max_window_bits(12);
        assert_eq!(
            server_answer(&[offer], &saving).as_deref(),
            Some("permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"),
            "{who}"
        );
    }
    // Our default offer is the same one.
    assert_eq!(
        offer(&DEFAULT),
        "permessage-deflate; client_max_window_bits"
    );
}

#[test]
fn answers_of_common_servers_are_accepted() {
    // python-websockets' default server, and the plain answer of Node's ws.
    assert_eq!(
        client_check(
            &["permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"],
            &DEFAULT
        )
        .unwrap(),
        Some(windows(12, 12))
    );
    assert_eq!(
        client_check(&["permessage-deflate"], &DEFAULT).unwrap(),
        Some(Agreed::DEFAULT)
    );
}

// ----------------------------------------------------------------------
// 3. Several offers, in preference order
// ----------------------------------------------------------------------

#[test]
fn the_first_acceptable_offer_wins_in_one_field() {
    let lines = ["x-foo, permessage-deflate; server_max_window_bits=9, permessage-deflate"];
    assert_eq!(server_choice(&lines, &DEFAULT), Some(windows(9, 15)));
    let lines = ["permessage-deflate, permessage-deflate; server_max_window_bits=9"];
    assert_eq!(server_choice(&lines, &DEFAULT), Some(Agreed::DEFAULT));
}

#[test]
fn the_first_acceptable_offer_wins_over_several_fields() {
    let lines = [
        "x-foo",
        "permessage-deflate; server_max_window_bits=13; client_max_window_bits",
        "permessage-deflate",
    ];
    let options = DeflateOptions::new().with_client_max_window_bits(10);
    assert_eq!(server_choice(&lines, &options), Some(windows(13, 10)));
}

#[test]
fn an_invalid_first_offer_is_declined_and_the_next_accepted() {
    // In one field, and over two.
    let same_field =
        ["permessage-deflate; server_max_window_bits=7, permessage-deflate; server_max_window_bits=9"];
    assert_eq!(server_choice(&same_field, &DEFAULT), Some(windows(9, 15)));
    let two_fields = [
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=9",
    ];
    assert_eq!(server_choice(&two_fields, &DEFAULT), Some(windows(9, 15)));
    // A comma inside a quoted value does not start a new offer.
    let quoted = ["permessage-deflate; server_max_window_bits=\"9, permessage-deflate\""];
    assert_eq!(server_choice(&quoted, &DEFAULT), None);
}

// ----------------------------------------------------------------------
// 4. "A server MUST decline an extension negotiation offer ..." (§7)
// ----------------------------------------------------------------------

/// Each case: the offer alone is declined; followed (in a second field) by
/// a valid offer, that one is accepted.
macro_rules! server_declines {
    ($($name:ident: $offer:expr;)*) => {$(
        #[test]
        fn $name() {
            let bad: &str = $offer;
            assert_eq!(server_choice(&[bad], &DEFAULT), None, "{bad}");
            let fallback = "permessage-deflate; server_max_window_bits=11";
            assert_eq!(
                server_choice(&[bad, fallback], &DEFAULT),
                Some(windows(11, 15)),
                "{bad}"
            );
        }
    )*};
}

server_declines! {
    // "an extension parameter not defined for use in an offer"
    declines_an_unknown_parameter: "permessage-deflate; max_window_bits=10";
    declines_an_unknown_parameter_among_known_ones:
        "permessage-deflate; client_max_window_bits; x-mode=fast";
    // "multiple extension parameters with the same name"
    declines_a_repeated_server_no_context_takeover:
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover";
    declines_a_repeated_client_no_context_takeover:
        "permessage-deflate; client_no_context_takeover; client_no_context_takeover";
    declines_a_repeated_server_max_window_bits:
        "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10";
    declines_a_repeated_client_max_window_bits:
        "permessage-deflate; client_max_window_bits; client_max_window_bits=10";
    declines_a_repeat_in_another_case:
        "permessage-deflate; client_max_window_bits; Client_Max_Window_Bits";
    // "an extension parameter with an invalid value"
    declines_window_bits_7: "permessage-deflate; server_max_window_bits=7";
    declines_window_bits_16: "permessage-deflate; client_max_window_bits=16";
    declines_window_bits_0: "permessage-deflate; server_max_window_bits=0";
    declines_a_leading_zero: "permessage-deflate; server_max_window_bits=08";
    declines_a_quoted_leading_zero: "permessage-deflate; client_max_window_bits=\"010\"";
    declines_a_non_number: "permessage-deflate; server_max_window_bits=1a";
    declines_a_sign: "permessage-deflate; server_max_window_bits=+9";
    declines_a_huge_number:
        "permessage-deflate; server_max_window_bits=100000000000000000000000000000009";
    declines_an_empty_value: "permessage-deflate; server_max_window_bits=";
    declines_an_empty_quoted_value: "permessage-deflate; client_max_window_bits=\"\"";
    declines_server_max_window_bits_without_a_value: "permessage-deflate; server_max_window_bits";
    declines_a_value_on_server_no_context_takeover:
        "permessage-deflate; server_no_context_takeover=1";
    declines_a_quoted_value_on_client_no_context_takeover:
        "permessage-deflate; client_no_context_takeover=\"true\"";
    // Elements that do not match RFC 6455 §9.1's grammar.
    declines_a_trailing_semicolon: "permessage-deflate; client_max_window_bits;";
    declines_an_empty_parameter: "permessage-deflate;; client_max_window_bits";
    declines_a_missing_semicolon: "permessage-deflate; client_max_window_bits server_no_context_takeover";
    declines_two_values: "permessage-deflate; server_max_window_bits=10 11";
    declines_an_unterminated_quote: "permessage-deflate; server_max_window_bits=\"10";
}

// ----------------------------------------------------------------------
// 5. "A client MUST _Fail the WebSocket Connection_ if ..." (§7)
// ----------------------------------------------------------------------

/// Each case: the answer to an offer made with the given options fails,
/// with a reason that mentions `$why`.
macro_rules! client_fails {
    ($($name:ident: $answer:expr, $offered:expr, $why:expr;)*) => {$(
        #[test]
        fn $name() {
            let answer: &[&str] = &$answer;
            match client_check(answer, &$offered) {
                Err(err @ Error::InvalidDeflateResponse(why)) => {
                    assert!(why.contains($why), "{answer:?}: {why}");
                    assert_eq!(err.close_code(), None);
                    assert_eq!(err.http_status(), None);
                    assert!(err.to_string().contains("RFC 7692"), "{err}");
                }
                other => panic!("{answer:?}: {other:?}"),
            }
        }
    )*};
}

const ASKS_SERVER_10: DeflateOptions = DeflateOptions::DEFAULT.with_server_max_window_bits(10);
const ASKS_NO_TAKEOVER: DeflateOptions =
    DeflateOptions::DEFAULT.with_server_no_context_takeover(true);

client_fails! {
    // "an extension parameter not defined for use in a response"
    fails_an_unknown_parameter: ["permessage-deflate; x=1"], DEFAULT, "does not define";
    // "multiple extension parameters with the same name"
    fails_a_repeated_parameter:
        ["permessage-deflate; server_no_context_takeover; server_no_context_takeover"],
        DEFAULT, "twice";
    fails_a_repeated_window:
        ["permessage-deflate; client_max_window_bits=10; client_max_window_bits=10"],
        DEFAULT, "twice";
    // "an extension parameter with an invalid value"
    fails_window_bits_7: ["permessage-deflate; server_max_window_bits=7"], DEFAULT, "8 to 15";
    fails_window_bits_16: ["permessage-deflate; client_max_window_bits=16"], DEFAULT, "8 to 15";
    fails_a_leading_zero: ["permessage-deflate; server_max_window_bits=08"], DEFAULT, "8 to 15";
    fails_a_non_number: ["permessage-deflate; client_max_window_bits=1a"], DEFAULT, "8 to 15";
    fails_an_empty_value: ["permessage-deflate; server_max_window_bits="], DEFAULT, "no value";
    fails_an_empty_quoted_value:
        ["permessage-deflate; server_max_window_bits=\"\""], DEFAULT, "8 to 15";
    fails_a_value_on_a_no_value_parameter:
        ["permessage-deflate; client_no_context_takeover=1"], DEFAULT, "takes none";
    fails_a_bare_client_max_window_bits:
        ["permessage-deflate; client_max_window_bits"], DEFAULT, "in an answer";
    fails_a_bare_server_max_window_bits:
        ["permessage-deflate; server_max_window_bits"], DEFAULT, "no value";
    fails_a_malformed_element: ["permessage-deflate;; server_no_context_takeover"], DEFAULT, "`;`";
    // More than one acceptance: in one field, and over two.
    fails_two_elements_in_one_field:
        ["permessage-deflate, permessage-deflate"], DEFAULT, "more than one";
    fails_two_elements_in_two_fields:
        ["permessage-deflate", "permessage-deflate; server_max_window_bits=9"],
        DEFAULT, "more than one";
    // "the client does not support the configuration that the response
    // represents": what we asked for was not granted.
    fails_a_larger_server_window_than_asked:
        ["permessage-deflate; server_max_window_bits=11"], ASKS_SERVER_10, "larger";
    fails_a_missing_server_window_when_asked:
        ["permessage-deflate"], ASKS_SERVER_10, "leaves out server_max_window_bits";
    fails_a_missing_server_no_context_takeover_when_asked:
        ["permessage-deflate; server_max_window_bits=9"], ASKS_NO_TAKEOVER,
        "leaves out server_no_context_takeover";
}

#[test]
fn what_the_server_may_add_or_loosen_is_not_a_failure() {
    // Unasked: a server window, a reset of either side; a client window
    // above our hint. (An answer naming client_max_window_bits when the
    // offer did not cannot happen: our offer always carries it.)
    let hint_10 = DeflateOptions::new().with_client_max_window_bits(10);
    for (answer, offered) in [
        ("permessage-deflate; server_max_window_bits=15", DEFAULT),
        ("permessage-deflate; server_max_window_bits=8", DEFAULT),
        ("permessage-deflate; server_no_context_takeover", DEFAULT),
        ("permessage-deflate; client_no_context_takeover", DEFAULT),
        ("permessage-deflate; client_max_window_bits=15", hint_10),
        (
            "permessage-deflate; server_max_window_bits=9",
            ASKS_SERVER_10,
        ),
        (
            "permessage-deflate; server_no_context_takeover",
            ASKS_NO_TAKEOVER,
        ),
    ] {
        assert!(
            matches!(client_check(&[answer], &offered), Ok(Some(_))),
            "{answer}"
        );
    }
}

// ----------------------------------------------------------------------
// 6. Properties
// ----------------------------------------------------------------------

/// Any valid options.
#[derive(Clone, Copy, Debug)]
struct Options(DeflateOptions);

impl Arbitrary for Options {
    fn arbitrary(g: &mut Gen) -> Self {
        let mut window = || 8 + below(g, 8) as u8;
        let (server, client) = (window(), window());
        Options(
            DeflateOptions::new()
                .with_server_max_window_bits(server)
                .with_client_max_window_bits(client)
                .with_server_no_context_takeover(bool::arbitrary(g))
                .with_client_no_context_takeover(bool::arbitrary(g)),
        )
    }
}

/// The whole exchange, through written and parsed heads: offer, choice,
/// answer, check. Returns what each end agreed on.
fn exchange(client: &DeflateOptions, server: &DeflateOptions) -> (Agreed, Agreed) {
    // The client writes its request with the offer ...
    let mut offer_buf = [0; MAX_OFFER_LEN];
    let offer = write_offer_str(client, &mut offer_buf).unwrap();
    let mut request = [0; 512];
    let len = write_request(
        &mut request,
        &ClientRequest {
            extensions: &[offer],
            ..ClientRequest::new("example.com", "/", KEY)
        },
    )
    .unwrap();
    // ... the server reads it and chooses ...
    let agreed_by_server = choice_for_head(&request[..len], server).expect("our offers are valid");
    let mut answer_buf = [0; MAX_RESPONSE_LEN];
    let answer = write_response_str(&agreed_by_server, &mut answer_buf).unwrap();
    let mut head = [0; 512];
    let key = ClientKey::new(KEY).unwrap();
    let len = write_accept_response(
        &mut head,
        &key,
        None,
        &[("Sec-WebSocket-Extensions", answer)],
    )
    .unwrap();
    // ... and the client checks the answer.
    let mut headers = [Header::EMPTY; 16];
    let Status::Complete((_, response)) = ResponseParser::new(Limits::default())
        .parse(&head[..len], &mut headers)
        .unwrap()
    else {
        panic!("the answer is complete");
    };
    response.verify(KEY, &[], &[offer]).unwrap();
    let agreed_by_client = check_response(response.extensions(), client)
        .unwrap()
        .expect("the server accepted");
    (agreed_by_server, agreed_by_client)
}

fn prop_both_ends_agree_within_their_limits(client: Options, server: Options) -> TestResult {
    let (client, server) = (client.0, server.0);
    let (by_server, by_client) = exchange(&client, &server);
    if by_server != by_client {
        return TestResult::error(format!("server {by_server:?} but client {by_client:?}"));
    }
    let agreed = by_server;
    // What each end sends is what the other receives.
    let both_ways = agreed.sending(Role::Client) == agreed.receiving(Role::Server)
        && agreed.sending(Role::Server) == agreed.receiving(Role::Client);
    // Both sides' limits hold, and no window is smaller than a limit asks.
    let server_window = client
        .server_max_window_bits
        .min(server.server_max_window_bits);
    let client_window = client
        .client_max_window_bits
        .min(server.client_max_window_bits);
    let limits = agreed.server_max_window_bits == server_window
        && agreed.client_max_window_bits == client_window
        && agreed.server_no_context_takeover
            == (client.server_no_context_takeover || server.server_no_context_takeover)
        && agreed.client_no_context_takeover
            == (client.client_no_context_takeover || server.client_no_context_takeover);
    TestResult::from_bool(both_ways && limits)
}

#[test]
fn both_ends_agree_within_their_limits() {
    check(
        300,
        16,
        prop_both_ends_agree_within_their_limits as fn(Options, Options) -> TestResult,
    );
}

#[test]
fn every_pair_of_options_agrees() {
    // The space is small enough to walk whole along the window sizes.
    for client_bits in 8..=15 {
        for server_bits in 8..=15 {
            let client = DeflateOptions::new()
                .with_server_max_window_bits(client_bits)
                .with_client_max_window_bits(client_bits);
            let server = DeflateOptions::new()
                .with_server_max_window_bits(server_bits)
                .with_client_max_window_bits(server_bits);
            let result = prop_both_ends_agree_within_their_limits(Options(client), Options(server));
            assert!(!result.is_failure(), "{client:?} {server:?}");
        }
    }
}

/// One parameter of a generated offer, and whether it is valid.
#[derive(Clone, Debug)]
struct Part {
    /// Index into [`NAMES`]; the last is not a parameter of §7.1.
    name: usize,
    value: Option<PartValue>,
}

#[derive(Clone, Debug)]
struct PartValue {
    text: String,
    quoted: bool,
}

const NAMES: [&str; 5] = [
    "server_no_context_takeover",
    "client_no_context_takeover",
    "server_max_window_bits",
    "client_max_window_bits",
    "x_unknown",
];

/// A permessage-deflate offer built from the grammar: known and unknown
/// names in any case, values good and bad, quoted or not, whitespace
/// around the separators.
#[derive(Clone, Debug)]
struct GeneratedOffer {
    parts: Vec<Part>,
    text: String,
}

impl Arbitrary for GeneratedOffer {
    fn arbitrary(g: &mut Gen) -> Self {
        let ows = |g: &mut Gen| [" ", "", "\t", "  "][below(g, 4)];
        let count = below(g, 5);
        let mut parts = Vec::new();
        let mut text = String::from(if bool::arbitrary(g) {
            "permessage-deflate"
        } else {
            "Permessage-Deflate"
        });
        for _ in 0..count {
            let name = below(g, NAMES.len());
            let value = match below(g, 4) {
                0 => None,
                _ => Some(PartValue {
                    text: ["8", "9", "10", "12", "15", "7", "16", "08", "1a", "", "015"]
                        [below(g, 11)]
                    .to_owned(),
                    quoted: bool::arbitrary(g),
                }),
            };
            let spelled: String = NAMES[name]
                .chars()
                .map(|c| {
                    if below(g, 4) == 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect();
            text.push_str(ows(g));
            text.push(';');
            text.push_str(ows(g));
            text.push_str(&spelled);
            if let Some(value) = &value {
                text.push_str(ows(g));
                text.push('=');
                text.push_str(ows(g));
                if value.quoted {
                    text.push_str(&format!("\"{}\"", value.text));
                } else {
                    text.push_str(&value.text);
                }
            }
            parts.push(Part { name, value });
        }
        GeneratedOffer { parts, text }
    }
}

impl GeneratedOffer {
    /// What a server with the default options must agree to, by the rules
    /// of §7.1 applied one by one; `None` if it must decline.
    fn model(&self) -> Option<Agreed> {
        let mut seen = [false; 4];
        let mut agreed = Agreed::DEFAULT;
        for part in &self.parts {
            let slot = seen.get_mut(part.name)?; // the unknown name: decline
            if std::mem::replace(slot, true) {
                return None;
            }
            let bits = match &part.value {
                None => None,
                Some(v) => Some(match v.text.as_str() {
                    "8" => 8,
                    "9" => 9,
                    "10" => 10,
                    "12" => 12,
                    "15" => 15,
                    _ => return None,
                }),
            };
            match (part.name, bits) {
                (0, None) => agreed.server_no_context_takeover = true,
                (1, None) => agreed.client_no_context_takeover = true,
                (2, Some(bits)) => agreed.server_max_window_bits = bits,
                (3, bits) => agreed.client_max_window_bits = bits.unwrap_or(15),
                _ => return None,
            }
        }
        Some(agreed)
    }
}

fn prop_generated_offers_are_accepted_exactly_when_valid(offer: GeneratedOffer) -> TestResult {
    let got = server_choice(&[&offer.text], &DEFAULT);
    let want = offer.model();
    // Window sizes of 15 that the offer named are named in the answer too,
    // so compare what is agreed, not how it is written.
    let same = match (got, want) {
        (None, None) => true,
        (Some(got), Some(want)) => {
            got.sending(Role::Server) == want.sending(Role::Server)
                && got.sending(Role::Client) == want.sending(Role::Client)
        }
        _ => false,
    };
    if same {
        TestResult::passed()
    } else {
        TestResult::error(format!("{:?}: got {got:?}, want {want:?}", offer.text))
    }
}

#[test]
fn generated_offers_are_accepted_exactly_when_valid() {
    check(
        2000,
        16,
        prop_generated_offers_are_accepted_exactly_when_valid as fn(GeneratedOffer) -> TestResult,
    );
}

fn prop_answers_to_generated_offers_are_valid_answers(offer: GeneratedOffer) -> TestResult {
    // Whatever a server accepts, it answers with an element a client that
    // made that offer accepts, agreeing on the same parameters.
    let Some(agreed) = server_choice(&[&offer.text], &DEFAULT) else {
        return TestResult::discard();
    };
    let mut out = [0; MAX_RESPONSE_LEN];
    let answer = write_response_str(&agreed, &mut out).unwrap();
    // The client that would have sent this offer: its requests are what the
    // offer asked for.
    let offered = DeflateOptions::new()
        .with_server_max_window_bits(agreed.server_max_window_bits)
        .with_server_no_context_takeover(agreed.server_no_context_takeover);
    match client_check(&[answer], &offered) {
        Ok(Some(by_client)) if by_client == agreed => TestResult::passed(),
        other => TestResult::error(format!("{:?} → {answer:?} → {other:?}", offer.text)),
    }
}

#[test]
fn answers_to_generated_offers_are_valid_answers() {
    check(
        500,
        16,
        prop_answers_to_generated_offers_are_valid_answers as fn(GeneratedOffer) -> TestResult,
    );
}

fn prop_arbitrary_elements_never_panic(elements: Vec<Vec<u8>>, options: Options) -> bool {
    // Straight into both functions, past the header parser's checks.
    let mut prefixed: Vec<Vec<u8>> = elements.clone();
    for element in &mut prefixed {
        let mut with_name = b"permessage-deflate;".to_vec();
        with_name.append(element);
        *element = with_name;
    }
    for set in [&elements, &prefixed] {
        let _ = negotiate(set.iter().map(Vec::as_slice), &options.0);
        let _ = check_response(set.iter().map(Vec::as_slice), &options.0);
    }
    true
}

#[test]
fn arbitrary_elements_never_panic() {
    check(
        1000,
        40,
        prop_arbitrary_elements_never_panic as fn(Vec<Vec<u8>>, Options) -> bool,
    );
}

#[test]
fn offers_fit_max_offer_len_and_answers_max_response_len() {
    let mut out = [0; MAX_OFFER_LEN];
    for snct in [false, true] {
        for cnct in [false, true] {
            for bits in 8..=15 {
                let options = DeflateOptions::new()
                    .with_server_max_window_bits(bits)
                    .with_client_max_window_bits(bits)
                    .with_server_no_context_takeover(snct)
                    .with_client_no_context_takeover(cnct);
                assert!(write_offer(&options, &mut out).is_ok());
                let (agreed, _) = exchange(&options, &options);
                let mut answer = [0; MAX_RESPONSE_LEN];
                assert!(write_response_str(&agreed, &mut answer).is_ok());
            }
        }
    }
}
