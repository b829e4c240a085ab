//! Image files made in the test: encoded with the `image` crate, EXIF and
//! hostile files crafted byte by byte.

use std::io::Cursor;

use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

/// A picture whose top half is red and bottom half blue.
pub fn halves(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |_, y| {
        if y < height / 2 {
            Rgb([220, 20, 20])
        } else {
            Rgb([20, 20, 220])
        }
    })
}

pub fn encode(picture: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    if format == ImageFormat::WebP {
        picture
            .write_with_encoder(WebPEncoder::new_lossless(&mut bytes))
            .unwrap();
    } else {
        DynamicImage::ImageRgb8(picture.clone())
            .write_to(&mut Cursor::new(&mut bytes), format)
            .unwrap();
    }
    bytes
}

/// A big-endian TIFF directory entry.
fn entry(tag: u16, kind: u16, count: u32, value: [u8; 4]) -> Vec<u8> {
    let mut bytes = tag.to_be_bytes().to_vec();
    bytes.extend(kind.to_be_bytes());
    bytes.extend(count.to_be_bytes());
    bytes.extend(value);
    bytes
}

/// The EXIF block a phone writes: orientation 6 (turn 90° clockwise to view),
/// and a GPS position (52°31'N) that must not survive.
pub fn exif_rotated_with_gps() -> Vec<u8> {
    const SHORT: u16 = 3;
    const LONG: u16 = 4;
    const ASCII: u16 = 2;
    const RATIONAL: u16 = 5;
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    // IFD0 at 8: two entries, then the offset of the next IFD (none).
    let gps_ifd = 8 + 2 + 2 * 12 + 4;
    tiff.extend(2u16.to_be_bytes());
    tiff.extend(entry(0x0112, SHORT, 1, [0, 6, 0, 0]));
    tiff.extend(entry(0x8825, LONG, 1, (gps_ifd as u32).to_be_bytes()));
    tiff.extend(0u32.to_be_bytes());
    // The GPS IFD: latitude reference and latitude (three rationals after it).
    let rationals = gps_ifd + 2 + 2 * 12 + 4;
    tiff.extend(2u16.to_be_bytes());
    tiff.extend(entry(0x0001, ASCII, 2, *b"N\0\0\0"));
    tiff.extend(entry(0x0002, RATIONAL, 3, (rationals as u32).to_be_bytes()));
    tiff.extend(0u32.to_be_bytes());
    for (numerator, denominator) in [(52u32, 1u32), (31, 1), (1234, 100)] {
        tiff.extend(numerator.to_be_bytes());
        tiff.extend(denominator.to_be_bytes());
    }
    let mut segment = b"Exif\0\0".to_vec();
    segment.extend(tiff);
    segment
}

/// `jpeg` with an APP1 (EXIF) segment right after its start marker.
pub fn with_exif(jpeg: &[u8], exif: &[u8]) -> Vec<u8> {
    assert_eq!(&jpeg[..2], [0xFF, 0xD8]);
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE1];
    bytes.extend(((exif.len() + 2) as u16).to_be_bytes());
    bytes.extend(exif);
    bytes.extend(&jpeg[2..]);
    bytes
}

pub fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    let mut bytes = (data.len() as u32).to_be_bytes().to_vec();
    bytes.extend(kind);
    bytes.extend(data);
    bytes.extend(crc.sum().to_be_bytes());
    bytes
}

/// A valid PNG header announcing 30000x30000 RGBA pixels (3.6 GB decoded)
/// in a file of a few hundred bytes: a decompression bomb.
pub fn png_bomb() -> Vec<u8> {
    let mut header = 30_000u32.to_be_bytes().to_vec();
    header.extend(30_000u32.to_be_bytes());
    header.extend([8, 6, 0, 0, 0]);
    let mut compressed = Vec::new();
    {
        use std::io::Write;
        let mut encoder =
            flate2::write::ZlibEncoder::new(&mut compressed, flate2::Compression::best());
        encoder.write_all(&vec![0u8; 64 * 1024]).unwrap();
        encoder.finish().unwrap();
    }
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(chunk(b"IHDR", &header));
    bytes.extend(chunk(b"IDAT", &compressed));
    bytes.extend(chunk(b"IEND", &[]));
    bytes
}

/// Bits of a deflate stream, first bit in the lowest place of each byte.
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    used: u32,
}

impl Bits {
    fn bit(&mut self, bit: u32) {
        if self.used % 8 == 0 {
            self.bytes.push(0);
        }
        *self.bytes.last_mut().unwrap() |= ((bit & 1) as u8) << (self.used % 8);
        self.used += 1;
    }

    /// A value, lowest bit first (block headers).
    fn value(&mut self, value: u32, count: u32) {
        (0..count).for_each(|i| self.bit(value >> i));
    }

    /// A Huffman code, highest bit first.
    fn code(&mut self, code: u32, count: u32) {
        (0..count).rev().for_each(|i| self.bit(code >> i));
    }
}

/// A whole, valid PNG of `width`x`height` transparent RGBA pixels, deflated
/// by hand (one fixed-Huffman block: zero literals, then copies of 258
/// zeros at distance 1): 13 bits per 258 bytes of pixels, made at once
/// whatever the size.
pub fn blank_png(width: u32, height: u32) -> Vec<u8> {
    let zeros = u64::from(height) * (1 + 4 * u64::from(width)); // filter byte + RGBA
    let mut bits = Bits::default();
    bits.value(1, 1); // the final block
    bits.value(1, 2); // fixed Huffman codes
    for _ in 0..1 + (zeros - 1) % 258 {
        bits.code(0b0011_0000, 8); // literal 0
    }
    for _ in 0..(zeros - 1) / 258 {
        bits.code(0b1100_0101, 8); // length 258 (code 285)
        bits.code(0, 5); // distance 1
    }
    bits.code(0, 7); // end of block
    let mut zlib = vec![0x78, 0x01];
    zlib.extend(bits.bytes);
    zlib.extend(((((zeros % 65_521) << 16) | 1) as u32).to_be_bytes()); // Adler-32
    let mut header = width.to_be_bytes().to_vec();
    header.extend(height.to_be_bytes());
    header.extend([8, 6, 0, 0, 0]);
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(chunk(b"IHDR", &header));
    bytes.extend(chunk(b"IDAT", &zlib));
    bytes.extend(chunk(b"IEND", &[]));
    bytes
}
