//! Writes the upload that makes the picture pipeline hold the most memory
//! while still accepted: an 8-bit RGBA PNG padded to `--image-max-bytes`
//! (a private chunk the decoder skips), as large in pixels as the budget
//! allows. `cargo run --release --example worst_picture -- OUT [MAX_BYTES]`
//! (see `bench/upload-memory.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use newsfeed::domain::limits::PICTURE_MEMORY_MIB;

/// The PNG makers of the tests (`chunk`, `blank_png`).
#[allow(dead_code)]
#[path = "../tests/it/media/images.rs"]
mod images;

/// A `width`x`height` RGBA PNG (transparent: every pixel is still decoded
/// and written) padded to `size` bytes.
fn padded_png(width: u32, height: u32, size: usize) -> Vec<u8> {
    let png = images::blank_png(width, height);
    assert!(png.len() + 12 <= size, "{} bytes before padding", png.len());
    // After the signature and IHDR (8 + 25 bytes): a private chunk as long as fits.
    let mut bytes = png[..33].to_vec();
    bytes.extend(images::chunk(b"nfPd", &vec![0x5A; size - png.len() - 12]));
    bytes.extend(&png[33..]);
    bytes
}

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().expect("OUT path");
    let size: usize = args.next().map_or(10 * 1024 * 1024, |a| a.parse().unwrap());
    // The tallest picture 6400 px wide that is accepted: judged on the
    // header alone (as the pipeline does), then made for real.
    let width: u32 = 6400;
    let header = |height: u32| {
        let mut ihdr = width.to_be_bytes().to_vec();
        ihdr.extend(height.to_be_bytes());
        ihdr.extend([8, 6, 0, 0, 0]);
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.extend(images::chunk(b"IHDR", &ihdr));
        bytes.extend(images::chunk(b"nfPd", &vec![0; size - 57]));
        bytes.extend(images::chunk(b"IDAT", &[]));
        bytes.extend(images::chunk(b"IEND", &[]));
        bytes
    };
    let accepted = |height| newsfeed::media::inspect(&header(height)).is_ok();
    let (mut low, mut high) = (180, 12_000);
    while low + 1 < high {
        let middle = (low + high) / 2;
        if accepted(middle) {
            low = middle
        } else {
            high = middle
        }
    }
    let height = low;
    let png = padded_png(width, height, size);
    let memory = newsfeed::media::inspect(&png).unwrap().memory_mib;
    std::fs::write(&out, &png).unwrap();
    println!(
        "{out}: {width}x{height} RGBA PNG, {} bytes, {} MiB decoded; \
         the pipeline estimates {memory} MiB of the {PICTURE_MEMORY_MIB} MiB budget",
        png.len(),
        u64::from(width) * u64::from(height) * 4 / (1024 * 1024)
    );
}
