//! `bench-bcrypt-verify COST COUNT`: hashes one password at COST, then times
//! COUNT verifies of it and prints their durations in milliseconds, one a line.

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (cost, count) = match (args.get(1), args.get(2)) {
        (Some(cost), Some(count)) => (
            cost.parse::<u32>().expect("COST is a number"),
            count.parse::<u32>().expect("COUNT is a number"),
        ),
        _ => {
            eprintln!("usage: bench-bcrypt-verify COST COUNT");
            std::process::exit(2);
        }
    };
    let password = "correct horse battery";
    let hash = bcrypt::hash(password, cost).expect("bcrypt hash");
    for _ in 0..count.min(10_000) {
        let start = Instant::now();
        let ok = bcrypt::verify(password, &hash).expect("bcrypt verify");
        let elapsed = start.elapsed();
        assert!(ok, "the password must verify");
        println!("{:.3}", elapsed.as_secs_f64() * 1000.0);
    }
}
