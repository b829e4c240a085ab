//! Upload -> JPEG: the format is sniffed from the bytes, the file must be
//! whole, the header is checked against size caps and the memory the whole
//! pipeline would need before any pixel is decoded, the decoder runs under
//! `image::Limits`, the picture is cropped (centred) and scaled to fill
//! 500x354, turned by its EXIF orientation and re-encoded. Only pixels
//! survive: no EXIF, no GPS position, no comment, no trailing script.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage, imageops};
use sha2::{Digest, Sha256};

use super::container;
use crate::domain::limits::{
    IMAGE_HEIGHT, IMAGE_JPEG_QUALITY, IMAGE_MAX_SIDE, IMAGE_MIN_HEIGHT, IMAGE_MIN_WIDTH,
    IMAGE_WIDTH, PICTURE_MEMORY_MIB,
};

/// A processed picture, ready to store.
#[derive(Clone, Debug)]
pub struct Picture {
    pub jpeg: Vec<u8>,
    /// SHA-256 of `jpeg`, hex: the file's name.
    pub hash: String,
    pub width: u32,
    pub height: u32,
}

/// Why an upload is not a picture we serve; the message says it to the uploader.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImageRefusal {
    #[error("is not a JPEG, PNG or WebP image{0}")]
    Unsupported(&'static str),
    #[error("cannot be read as {format}: {reason}")]
    Unreadable {
        format: &'static str,
        reason: String,
    },
    #[error("is {width}x{height} pixels; at most {IMAGE_MAX_SIDE}x{IMAGE_MAX_SIDE} are accepted")]
    TooManyPixels { width: u32, height: u32 },
    #[error(
        "is {width}x{height} pixels; at least {IMAGE_MIN_WIDTH}x{IMAGE_MIN_HEIGHT} are needed (QGIS shows it at that size)"
    )]
    TooSmall { width: u32, height: u32 },
    #[error(
        "is {width}x{height} pixels and would need {needed_mib} MiB of memory to process; a picture may use at most {PICTURE_MEMORY_MIB} MiB (send a smaller one)"
    )]
    TooMuchMemory {
        width: u32,
        height: u32,
        needed_mib: u64,
    },
}

/// The formats we decode, told apart by their first bytes.
fn sniff(bytes: &[u8]) -> Result<(ImageFormat, &'static str), ImageRefusal> {
    match image::guess_format(bytes) {
        Ok(ImageFormat::Jpeg) => Ok((ImageFormat::Jpeg, "JPEG")),
        Ok(ImageFormat::Png) => Ok((ImageFormat::Png, "PNG")),
        Ok(ImageFormat::WebP) => Ok((ImageFormat::WebP, "WebP")),
        _ => Err(ImageRefusal::Unsupported(describe_other(bytes))),
    }
}

/// A hint at what the bytes are instead, whatever the file is called.
fn describe_other(bytes: &[u8]) -> &'static str {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    if head.contains("<svg") {
        " (it is an SVG drawing: export it as PNG)"
    } else if head.starts_with("<!doctype html") || head.starts_with("<html") {
        " (it is an HTML page)"
    } else if head.starts_with('<') {
        " (it is an XML or HTML document)"
    } else if bytes.is_empty() {
        " (the file is empty)"
    } else {
        ""
    }
}

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(IMAGE_MAX_SIDE);
    limits.max_image_height = Some(IMAGE_MAX_SIDE);
    limits.max_alloc = Some(PICTURE_MEMORY_MIB * MIB);
    limits
}

const MIB: u64 = 1024 * 1024;
/// Row buffers of the decoders, per pixel of width (zune-jpeg's MCU rows
/// of up to four components at up to 4x4 sampling, png's rows).
const ROW_BYTES: u64 = 1024;
/// The pictures of twice the target size, the resize's working rows, the
/// stored JPEG: a few MiB whatever the upload.
const SMALL_BUFFERS_MIB: u64 = 16;

/// What the header says about an upload, judged before any pixel is decoded.
#[derive(Clone, Debug)]
pub struct Inspected {
    format: ImageFormat,
    name: &'static str,
    orientation: Orientation,
    /// Most memory the pipeline holds for this picture, in MiB (at most
    /// `PICTURE_MEMORY_MIB`).
    pub memory_mib: u32,
}

/// The decoder for `bytes`, without the `image` crate's default limits
/// (ours are set once the header is judged).
fn open(bytes: &[u8], format: ImageFormat) -> image::ImageResult<impl ImageDecoder + '_> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.no_limits();
    reader.into_decoder()
}

/// The decoder's error as the uploader reads it.
fn unreadable(name: &'static str) -> impl Fn(image::ImageError) -> ImageRefusal {
    move |error| ImageRefusal::Unreadable {
        format: name,
        reason: match error {
            image::ImageError::Limits(_) => {
                "decoding it would need more memory than a picture of the accepted size".into()
            }
            other => other.to_string(),
        },
    }
}

/// Whether `orientation` turns the picture a quarter (width and height swap).
fn turns(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

/// Sniffs the format, checks that the file is whole, and judges the size
/// and the memory the pipeline would need, all from the headers. Cheap: no
/// pixel is decoded.
pub fn inspect(bytes: &[u8]) -> Result<Inspected, ImageRefusal> {
    let (format, name) = sniff(bytes)?;
    let unreadable = unreadable(name);
    let mut decoder = open(bytes, format).map_err(&unreadable)?;
    let (width, height) = decoder.dimensions();
    if width > IMAGE_MAX_SIDE || height > IMAGE_MAX_SIDE {
        return Err(ImageRefusal::TooManyPixels { width, height });
    }
    let working = container::working_memory(format, bytes, width, height).map_err(|reason| {
        ImageRefusal::Unreadable {
            format: name,
            reason: reason.into(),
        }
    })?;
    let orientation = decoder.orientation().map_err(&unreadable)?;
    let (upright_w, upright_h) = if turns(orientation) {
        (height, width)
    } else {
        (width, height)
    };
    if upright_w < IMAGE_MIN_WIDTH || upright_h < IMAGE_MIN_HEIGHT {
        return Err(ImageRefusal::TooSmall {
            width: upright_w,
            height: upright_h,
        });
    }
    // The upload, the decoder's working memory (and the copy of the file
    // the JPEG decoder makes), the decoded pixels, and the rows, the
    // twice-target picture, the resize and the encoder's output.
    let copy = if format == ImageFormat::Jpeg {
        bytes.len()
    } else {
        0
    };
    let memory = (bytes.len() + copy) as u64
        + working
        + decoder.total_bytes()
        + u64::from(width) * ROW_BYTES
        + SMALL_BUFFERS_MIB * MIB;
    let memory_mib = memory.div_ceil(MIB);
    if memory_mib > PICTURE_MEMORY_MIB {
        return Err(ImageRefusal::TooMuchMemory {
            width,
            height,
            needed_mib: memory_mib,
        });
    }
    Ok(Inspected {
        format,
        name,
        orientation,
        memory_mib: u32::try_from(memory_mib).unwrap_or(u32::MAX),
    })
}

/// Turns uploaded bytes into the stored JPEG. CPU-bound: call it off the
/// async threads (`spawn_blocking`), within the memory budget
/// (`service::media::process`).
pub fn process(bytes: &[u8]) -> Result<Picture, ImageRefusal> {
    inspect(bytes).and_then(|inspected| decode(bytes, &inspected))
}

/// The pipeline after `inspect`: decode, crop and scale, orient, encode.
/// At its peak it holds the decoded pixels and pictures of twice the
/// target size: nothing else as large as the upload.
pub fn decode(bytes: &[u8], inspected: &Inspected) -> Result<Picture, ImageRefusal> {
    let unreadable = unreadable(inspected.name);
    let mut decoder = open(bytes, inspected.format).map_err(&unreadable)?;
    decoder.set_limits(limits()).map_err(&unreadable)?;
    let raw = DynamicImage::from_decoder(decoder).map_err(&unreadable)?;
    let filled = fill(&raw, inspected.orientation);
    drop(raw);
    let mut jpeg = Vec::with_capacity(64 * 1024);
    JpegEncoder::new_with_quality(&mut jpeg, IMAGE_JPEG_QUALITY)
        .encode_image(&filled)
        .map_err(&unreadable)?;
    Ok(Picture {
        hash: hex::encode(Sha256::digest(&jpeg)),
        jpeg,
        width: IMAGE_WIDTH,
        height: IMAGE_HEIGHT,
    })
}

/// Crops the centre to the target's aspect ratio, scales it to the target
/// size, and puts transparent parts on white (JPEG has no alpha). Works on
/// the pixels as decoded: the window is cut with the proportions it will
/// have once turned upright, shrunk, and only then turned.
fn fill(raw: &DynamicImage, orientation: Orientation) -> RgbImage {
    let (target_w, target_h) = if turns(orientation) {
        (IMAGE_HEIGHT, IMAGE_WIDTH)
    } else {
        (IMAGE_WIDTH, IMAGE_HEIGHT)
    };
    let (width, height) = (u64::from(raw.width()), u64::from(raw.height()));
    let (wide, high) = (u64::from(target_w), u64::from(target_h));
    // The largest centred window with the target's proportions.
    let (crop_w, crop_h) = if width * high > height * wide {
        ((height * wide / high).max(1), height)
    } else {
        (width, (width * high / wide).max(1))
    };
    let window = Window {
        x: ((width - crop_w) / 2) as u32,
        y: ((height - crop_h) / 2) as u32,
        width: crop_w as u32,
        height: crop_h as u32,
    };
    let mut small = shrink(raw, window, (target_w * 2, target_h * 2));
    small.apply_orientation(orientation);
    let scaled = small.resize_exact(IMAGE_WIDTH, IMAGE_HEIGHT, FilterType::Lanczos3);
    if !scaled.color().has_alpha() {
        return scaled.to_rgb8();
    }
    let rgba = scaled.to_rgba8();
    RgbImage::from_fn(IMAGE_WIDTH, IMAGE_HEIGHT, |px, py| {
        let [r, g, b, a] = rgba.get_pixel(px, py).0;
        let over_white = |channel: u8| {
            let (channel, alpha) = (u16::from(channel), u16::from(a));
            ((channel * alpha + 255 * (255 - alpha) + 127) / 255) as u8
        };
        image::Rgb([over_white(r), over_white(g), over_white(b)])
    })
}

/// A rectangle of the decoded picture.
#[derive(Clone, Copy)]
struct Window {
    x: u32,
    y: u32,
    width: u32,
    height: u32,
}

/// The `window` of `raw`, area-averaged down to `twice` (twice the target
/// size) when larger: read in place, never copied at full size. Lanczos3
/// from there gives the same look in a fraction of the time.
fn shrink(raw: &DynamicImage, window: Window, (twice_w, twice_h): (u32, u32)) -> DynamicImage {
    let Window {
        x,
        y,
        width,
        height,
    } = window;
    if width <= twice_w || height <= twice_h {
        return raw.crop_imm(x, y, width, height);
    }
    macro_rules! each_layout {
        ($($layout:ident),*) => {
            match raw {
                $(DynamicImage::$layout(pixels) => DynamicImage::$layout(imageops::thumbnail(
                    &*imageops::crop_imm(pixels, x, y, width, height),
                    twice_w,
                    twice_h,
                )),)*
                other => other.crop_imm(x, y, width, height).thumbnail_exact(twice_w, twice_h),
            }
        };
    }
    each_layout!(
        ImageLuma8,
        ImageLumaA8,
        ImageRgb8,
        ImageRgba8,
        ImageLuma16,
        ImageLumaA16,
        ImageRgb16,
        ImageRgba16
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        DynamicImage::new_rgba8(width, height)
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .unwrap_or_default();
        bytes
    }

    #[test]
    fn transparent_becomes_white_and_the_size_is_fixed() {
        let picture = process(&png(800, 400)).map_err(|e| e.to_string());
        let picture = picture.unwrap_or_else(|e| panic!("{e}"));
        let decoded = image::load_from_memory(&picture.jpeg).unwrap_or_default();
        assert_eq!((decoded.width(), decoded.height()), (500, 354));
        assert!(
            decoded
                .to_rgb8()
                .pixels()
                .all(|p| p.0.iter().all(|c| *c > 250))
        );
    }

    #[test]
    fn tiny_and_text_files_are_refused_with_reasons() {
        assert_eq!(
            process(&png(100, 100)).err(),
            Some(ImageRefusal::TooSmall {
                width: 100,
                height: 100
            })
        );
        let svg = process(b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>");
        assert!(svg.err().is_some_and(|e| e.to_string().contains("SVG")));
    }
}
