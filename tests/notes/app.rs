// What the smoltcp and embassy-net blocks of no_std_notes.md call their
// randomness and their application (a server never masks, so the
// randomness is never asked; the application takes each piece of data).

struct NoMasks;
impl wslite::RandomSource for NoMasks {
    fn fill_bytes(&mut self, _dest: &mut [u8]) {}
}

struct App;
impl App {
    fn on_data(&mut self, _bytes: &[u8], _fin: bool) {}
}
