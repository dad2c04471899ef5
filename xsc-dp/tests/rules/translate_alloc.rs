//! Translating and lowering a seed megaflow allocates nothing in steady
//! state (its shared resources exist, the RteRule's buffers have grown).

use xsc_dp::odp::parse_dump;
use xsc_dp::profile::DeviceProfile;
use xsc_dp::rte::{lower, RteRule};
use xsc_dp::translate::{Config, PortMap, Translation, Translator};
use xsc_test_support::alloc::allocations;

const SEED: &str = include_str!("../data/odp/corpus/seed-offloaded.flows");

#[test]
fn translate_and_lower_allocate_nothing_in_steady_state() {
    let flows: Vec<_> = parse_dump(SEED).map(|(_, f)| f.unwrap()).collect();
    let mut t = Translator::new(
        DeviceProfile::metascale(),
        PortMap::identity(),
        Config::default(),
    );
    let mut rte = RteRule::new();
    // Warm-up: shared resources and buffers.
    for f in &flows {
        let tr = t.translate(f).unwrap();
        lower(&tr.rule, &mut rte).unwrap();
    }
    let mut tr = Translation::default();
    // Counted on this thread only: the harness's other threads (its timer,
    // its output capture) and the binary's other tests allocate as they like.
    let n = allocations(|| {
        for _ in 0..100 {
            for f in &flows {
                t.translate_into(f, &mut tr).unwrap();
                lower(&tr.rule, &mut rte).unwrap();
                t.release(&tr.resources);
            }
        }
    });
    assert_eq!(
        n, 0,
        "allocations in 600 translate+lower+release of seed flows"
    );
}
