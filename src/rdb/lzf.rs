//! LZF decompression (the format Redis uses for compressed strings in RDB files), bounded:
//! the output never grows beyond the length the file announced, and a back-reference or
//! literal run that points outside the data is an error, never a panic.

/// Decompresses `input` into exactly `out_len` bytes.
pub fn decompress(input: &[u8], out_len: usize) -> Result<Vec<u8>, String> {
    // Grow with the data: a lying `out_len` must not reserve memory up front.
    let mut out: Vec<u8> = Vec::with_capacity(out_len.min(input.len().saturating_mul(4)));
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            if ip + n > input.len() {
                return Err(format!(
                    "LZF literal run of {n} bytes overruns the compressed data"
                ));
            }
            if out.len() + n > out_len {
                return Err(format!(
                    "LZF data expands beyond the announced length {out_len}"
                ));
            }
            out.extend_from_slice(&input[ip..ip + n]);
            ip += n;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                let Some(&b) = input.get(ip) else {
                    return Err("LZF back-reference cut short".into());
                };
                len += b as usize;
                ip += 1;
            }
            let Some(&b) = input.get(ip) else {
                return Err("LZF back-reference cut short".into());
            };
            ip += 1;
            let back = ((ctrl & 0x1f) << 8) + b as usize + 1;
            len += 2;
            if back > out.len() {
                return Err(format!(
                    "LZF back-reference {back} bytes back, before the start of the output"
                ));
            }
            if out.len() + len > out_len {
                return Err(format!(
                    "LZF data expands beyond the announced length {out_len}"
                ));
            }
            let start = out.len() - back;
            for i in 0..len {
                let c = out[start + i];
                out.push(c);
            }
        }
    }
    if out.len() != out_len {
        return Err(format!(
            "LZF data expands to {} bytes, not the announced {out_len}",
            out.len()
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::decompress;

    #[test]
    fn literal_and_backref() {
        // "abc" literal, then copy 6 bytes from 3 back: "abcabcabc".
        let data = [2, b'a', b'b', b'c', (4 << 5), 2];
        assert_eq!(decompress(&data, 9).unwrap(), b"abcabcabc");
    }

    #[test]
    fn lies_are_errors() {
        let data = [2, b'a', b'b', b'c', (4 << 5), 2];
        assert!(
            decompress(&data, 1 << 40)
                .unwrap_err()
                .contains("not the announced")
        );
        assert!(decompress(&data, 5).unwrap_err().contains("beyond"));
        assert!(decompress(&[5, b'a'], 6).unwrap_err().contains("overruns"));
        assert!(
            decompress(&[(1 << 5), 9], 3)
                .unwrap_err()
                .contains("before the start")
        );
        assert!(decompress(&[0xe0], 3).unwrap_err().contains("cut short"));
    }
}
