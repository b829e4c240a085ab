//! The file around the pixels, walked before any pixel is decoded: a file
//! that ends before its end marker (`EOI`, `IEND`, the RIFF size) is cut
//! short, whatever a lenient decoder would make of it (zune-jpeg paints the
//! missing part grey). The walk also tells how much working memory the
//! decoder needs besides the decoded picture.

use image::ImageFormat;

/// Why a file is not whole.
const CUT_SHORT: &str = "the file ends before the picture does (it was cut short)";

/// Checks that `bytes` (of `format`, `width`x`height` by its header) are a
/// whole file, and returns the bytes its decoder holds besides its output.
pub fn working_memory(
    format: ImageFormat,
    bytes: &[u8],
    width: u32,
    height: u32,
) -> Result<u64, &'static str> {
    let pixels = u64::from(width) * u64::from(height);
    match format {
        ImageFormat::Jpeg => jpeg(bytes, width, height),
        ImageFormat::Png => png(bytes),
        _ => webp(bytes).map(|per_pixel| per_pixel * pixels),
    }
}

fn be16(bytes: &[u8], at: usize) -> Option<usize> {
    let pair = bytes.get(at..at + 2)?;
    Some(usize::from(u16::from_be_bytes([pair[0], pair[1]])))
}

fn be32(bytes: &[u8], at: usize) -> Option<usize> {
    let four = bytes.get(at..at + 4)?;
    usize::try_from(u32::from_be_bytes([four[0], four[1], four[2], four[3]])).ok()
}

fn le32(bytes: &[u8], at: usize) -> Option<usize> {
    let four = bytes.get(at..at + 4)?;
    usize::try_from(u32::from_le_bytes([four[0], four[1], four[2], four[3]])).ok()
}

/// Chunks up to `IEND`; the PNG decoder stops after the image data and
/// would not notice the rest missing. It decodes row by row into its output.
fn png(bytes: &[u8]) -> Result<u64, &'static str> {
    let mut at = 8;
    loop {
        let length = be32(bytes, at).ok_or(CUT_SHORT)?;
        let kind = bytes.get(at + 4..at + 8).ok_or(CUT_SHORT)?;
        let next = (at + 12).checked_add(length).ok_or(CUT_SHORT)?;
        if next > bytes.len() {
            return Err(CUT_SHORT);
        }
        if kind == b"IEND" {
            return Ok(0);
        }
        at = next;
    }
}

/// The RIFF size must fit in the file, and every chunk in the RIFF size.
/// Returns image-webp's working bytes per pixel: the RGBA frame a lossless
/// picture without alpha is decoded to first; the YUV planes of a lossy one
/// (and its alpha plane, decoded as lossless); a frame and the canvas of an
/// animation on top of that.
fn webp(bytes: &[u8]) -> Result<u64, &'static str> {
    let end = le32(bytes, 4)
        .and_then(|size| size.checked_add(8))
        .ok_or(CUT_SHORT)?;
    if end > bytes.len() {
        return Err(CUT_SHORT);
    }
    let (mut lossless, mut alpha, mut animated) = (false, false, false);
    let mut at = 12;
    while at < end {
        let kind = bytes.get(at..at + 4).ok_or(CUT_SHORT)?;
        let size = le32(bytes, at + 4).ok_or(CUT_SHORT)?;
        let next = (at + 8)
            .checked_add(size)
            .filter(|next| *next <= end)
            .ok_or(CUT_SHORT)?;
        match kind {
            b"VP8L" => lossless = true,
            b"ALPH" => alpha = true,
            b"ANIM" | b"ANMF" => animated = true,
            _ => {}
        }
        at = next + (size & 1);
    }
    let frame = match (lossless, alpha) {
        (true, _) => 4,
        (false, false) => 2,
        (false, true) => 2 + 5,
    };
    Ok(if animated { frame + 8 } else { frame })
}

/// The frame as a JPEG's header gives it.
struct Frame {
    progressive: bool,
    /// (horizontal, vertical) sampling factor of each component.
    sampling: Vec<(u64, u64)>,
}

/// Segments and scans up to `EOI`. zune-jpeg decodes a single-scan baseline
/// picture row by row into its output; a progressive one (or one whose
/// components come in separate scans) keeps every coefficient (2 bytes)
/// until the last scan.
fn jpeg(bytes: &[u8], width: u32, height: u32) -> Result<u64, &'static str> {
    let mut frame = None;
    let mut first_scan = None;
    let mut at = 2;
    loop {
        // Bytes between segments are skipped, as the decoder does.
        at += bytes
            .get(at..)
            .and_then(|rest| rest.iter().position(|b| *b == 0xFF))
            .ok_or(CUT_SHORT)?;
        while bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let marker = *bytes.get(at + 1).ok_or(CUT_SHORT)?;
        at += 2;
        match marker {
            0xD9 => break,
            0x00 | 0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let length = be16(bytes, at).ok_or(CUT_SHORT)?;
        let segment = bytes.get(at + 2..at + length.max(2)).ok_or(CUT_SHORT)?;
        at += length;
        match marker {
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                frame = Some(Frame {
                    progressive: matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE),
                    sampling: segment
                        .get(6..)
                        .unwrap_or_default()
                        .chunks_exact(3)
                        .map(|c| (u64::from(c[1] >> 4).max(1), u64::from(c[1] & 15).max(1)))
                        .collect(),
                });
            }
            0xDA => {
                first_scan.get_or_insert(segment.first().copied().unwrap_or(0));
                at = scan_end(bytes, at);
            }
            _ => {}
        }
    }
    let Some(frame) = frame else { return Ok(0) };
    let separate_scans = first_scan.is_some_and(|n| usize::from(n) < frame.sampling.len());
    if !frame.progressive && !separate_scans {
        return Ok(0);
    }
    let h_max = frame.sampling.iter().map(|s| s.0).max().unwrap_or(1);
    let v_max = frame.sampling.iter().map(|s| s.1).max().unwrap_or(1);
    let mcus = u64::from(width).div_ceil(8 * h_max) * u64::from(height).div_ceil(8 * v_max);
    let blocks: u64 = frame.sampling.iter().map(|(h, v)| h * v).sum();
    Ok(mcus * blocks * 64 * 2)
}

/// Where the entropy-coded data from `at` ends: the first marker that is
/// not a stuffed `FF 00` or a restart marker (the file's end if none).
fn scan_end(bytes: &[u8], mut at: usize) -> usize {
    while let Some(offset) = bytes
        .get(at..)
        .and_then(|r| r.iter().position(|b| *b == 0xFF))
    {
        at += offset;
        match bytes.get(at + 1) {
            Some(0x00 | 0xD0..=0xD7) => at += 2,
            _ => return at,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jpeg_without_its_end_marker_is_cut_short() {
        // SOI, a baseline SOF (1x1, three components 2x2, 1x1, 1x1), a scan, EOI.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8, 0, 1, 0, 1, 3];
        jpeg.extend([1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        jpeg.extend([0xFF, 0xDA, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0]);
        jpeg.extend([0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xD9]);
        assert_eq!(working_memory(ImageFormat::Jpeg, &jpeg, 1, 1), Ok(0));
        for cut in [jpeg.len() - 1, jpeg.len() - 4, 20, 3] {
            assert_eq!(
                working_memory(ImageFormat::Jpeg, &jpeg[..cut], 1, 1),
                Err(CUT_SHORT),
                "{cut}"
            );
        }
        // Progressive: every coefficient is kept (4:2:0, 6 blocks per 16x16).
        jpeg[3] = 0xC2;
        assert_eq!(
            working_memory(ImageFormat::Jpeg, &jpeg, 1600, 1200),
            Ok(100 * 75 * 6 * 64 * 2)
        );
    }

    #[test]
    fn png_and_webp_must_reach_their_end() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend([0, 0, 0, 1]);
        png.extend(b"IDAT\x00CRC!");
        png.extend([0, 0, 0, 0]);
        png.extend(b"IENDCRC!");
        assert_eq!(working_memory(ImageFormat::Png, &png, 1, 1), Ok(0));
        let cut = &png[..png.len() - 1];
        assert_eq!(working_memory(ImageFormat::Png, cut, 1, 1), Err(CUT_SHORT));

        let mut webp = b"RIFF\x12\0\0\0WEBPVP8L\x05\0\0\0abcde\0".to_vec();
        assert_eq!(working_memory(ImageFormat::WebP, &webp, 10, 10), Ok(400));
        webp[4] = 0x20;
        assert_eq!(
            working_memory(ImageFormat::WebP, &webp, 10, 10),
            Err(CUT_SHORT)
        );
    }
}
