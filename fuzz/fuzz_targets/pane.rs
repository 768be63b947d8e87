#![no_main]

libfuzzer_sys::fuzz_target!(
    init: {
        // libFuzzer's hook aborts on every panic, even one the pane catches and recovers from
        // (vt100 panics, see docs/SECURITY.md): let those through, abort on any other.
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !mtssh::app::pane::in_guarded_emulator() {
                abort(info);
            }
        }));
    },
    |data: &[u8]| mtssh::fuzzing::pane(data)
);
