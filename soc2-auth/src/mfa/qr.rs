//! QR codes for enrolment URIs, as SVG and PNG.

use qrcode::{Color, EcLevel, QrCode};

use super::MfaError;

/// Pixels per module in the PNG.
const SCALE: usize = 6;
/// Quiet zone in modules (ISO/IEC 18004 asks for 4).
const QUIET: usize = 4;

/// Encodes `text` (medium error correction).
pub(super) fn encode(text: &str) -> Result<QrCode, MfaError> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| MfaError::Config(format!("cannot encode the QR code: {e}")))
}

/// The code as an SVG document.
pub(super) fn svg(code: &QrCode) -> String {
    code.render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build()
}

/// The code as an 8-bit greyscale PNG.
pub(super) fn png(code: &QrCode) -> Result<Vec<u8>, MfaError> {
    let width = code.width();
    let side = (width + 2 * QUIET) * SCALE;
    let colors = code.to_colors();
    let mut pixels = vec![255u8; side * side];
    for (index, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (x, y) = (
            (index % width + QUIET) * SCALE,
            (index / width + QUIET) * SCALE,
        );
        for row in y..y + SCALE {
            pixels[row * side + x..row * side + x + SCALE].fill(0);
        }
    }
    let side = u32::try_from(side).map_err(|_| MfaError::Config("QR code too large".into()))?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(&pixels))
        .map_err(|e| MfaError::Config(format!("cannot encode the PNG: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_svg_and_a_decodable_png() {
        let code = encode("otpauth://totp/Acme:alice?secret=GEZDGNBVGY3TQOJQ&issuer=Acme").unwrap();
        let svg = svg(&code);
        assert!(svg.starts_with("<?xml") && svg.contains("<svg"), "{svg}");
        let png = png(&code).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        let side = u32::try_from((code.width() + 2 * QUIET) * SCALE).unwrap();
        assert_eq!((info.width, info.height), (side, side));
        assert_eq!(info.color_type, png::ColorType::Grayscale);
    }
}
