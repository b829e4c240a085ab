//! Times the image pipeline on a 4000x3000 JPEG photo-like picture:
//! `cargo run --release --example image_pipeline [RUNS]` (see `bench/image.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;
use std::time::Instant;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(9);
    // Smooth gradients with fine texture: compresses like a photo, not like a flat fill.
    let picture = RgbImage::from_fn(4000, 3000, |x, y| {
        let noise = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) >> 28;
        Rgb([
            ((x * 255 / 4000) as u8).wrapping_add(noise as u8),
            ((y * 255 / 3000) as u8).wrapping_add(noise as u8),
            (((x + y) * 255 / 7000) as u8).wrapping_add(noise as u8),
        ])
    });
    let mut jpeg = Vec::new();
    DynamicImage::ImageRgb8(picture)
        .write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
        .unwrap();
    let mut times = Vec::with_capacity(runs);
    let mut output = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let stored = newsfeed::media::process(&jpeg).unwrap();
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        output = stored.jpeg.len();
    }
    times.sort_by(f64::total_cmp);
    println!(
        "input: 4000x3000 JPEG, {} bytes; output: 500x354 JPEG, {output} bytes",
        jpeg.len()
    );
    println!(
        "pipeline time over {runs} runs: median {:.1} ms, min {:.1} ms, max {:.1} ms",
        times[runs / 2],
        times[0],
        times[runs - 1]
    );
}
