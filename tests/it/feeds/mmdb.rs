//! A minimal MaxMind DB writer (format 2.0, IPv4, 24-bit records): enough
//! to build the small GeoIP databases the tests read through the server.

/// A value of the MaxMind DB data section.
pub enum Data {
    Str(&'static str),
    Double(f64),
    Uint16(u16),
    Uint32(u32),
    Uint64(u64),
    Map(Vec<(&'static str, Data)>),
    Array(Vec<Data>),
}

fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    let (size_bits, extra): (u8, Vec<u8>) = match size {
        0..=28 => (size as u8, vec![]),
        29..=284 => (29, vec![(size - 29) as u8]),
        _ => (30, ((size - 285) as u16).to_be_bytes().to_vec()),
    };
    if kind <= 7 {
        out.push((kind << 5) | size_bits);
    } else {
        out.push(size_bits);
        out.push(kind - 7);
    }
    out.extend(extra);
}

fn uint(out: &mut Vec<u8>, kind: u8, value: u64, width: usize) {
    let bytes = value.to_be_bytes();
    let significant: Vec<u8> = bytes[8 - width..]
        .iter()
        .copied()
        .skip_while(|byte| *byte == 0)
        .collect();
    control(out, kind, significant.len());
    out.extend(significant);
}

impl Data {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Data::Str(text) => {
                control(out, 2, text.len());
                out.extend(text.as_bytes());
            }
            Data::Double(value) => {
                control(out, 3, 8);
                out.extend(value.to_be_bytes());
            }
            Data::Uint16(value) => uint(out, 5, u64::from(*value), 2),
            Data::Uint32(value) => uint(out, 6, u64::from(*value), 4),
            Data::Uint64(value) => uint(out, 9, *value, 8),
            Data::Map(pairs) => {
                control(out, 7, pairs.len());
                for (key, value) in pairs {
                    Data::Str(key).encode(out);
                    value.encode(out);
                }
            }
            Data::Array(items) => {
                control(out, 11, items.len());
                for item in items {
                    item.encode(out);
                }
            }
        }
    }
}

/// A GeoIP2-style record: a country code and, if given, a position.
pub fn record(country: &'static str, position: Option<(f64, f64)>) -> Data {
    let mut pairs = vec![("country", Data::Map(vec![("iso_code", Data::Str(country))]))];
    if let Some((latitude, longitude)) = position {
        pairs.push((
            "location",
            Data::Map(vec![
                ("latitude", Data::Double(latitude)),
                ("longitude", Data::Double(longitude)),
            ]),
        ));
    }
    Data::Map(pairs)
}

/// A database mapping each IPv4 network (`[a, b, c, d]`, prefix length)
/// to its record; other addresses have none.
pub fn build(networks: &[([u8; 4], u8, Data)]) -> Vec<u8> {
    // The data section: each record once.
    let mut data = Vec::new();
    let offsets: Vec<usize> = networks
        .iter()
        .map(|(_, _, record)| {
            let offset = data.len();
            record.encode(&mut data);
            offset
        })
        .collect();
    // The search tree: node 0 is the root; a record is a node, "no data"
    // (`EMPTY`), or a data offset.
    const EMPTY: i64 = -1;
    let mut nodes: Vec<[i64; 2]> = vec![[EMPTY, EMPTY]];
    let mut leaves: Vec<(usize, usize, usize)> = Vec::new(); // (node, side, record)
    for (index, (address, prefix, _)) in networks.iter().enumerate() {
        let bits = u32::from_be_bytes(*address);
        let mut node = 0;
        for depth in 0..usize::from(*prefix) {
            let side = ((bits >> (31 - depth)) & 1) as usize;
            if depth + 1 == usize::from(*prefix) {
                leaves.push((node, side, index));
            } else {
                if nodes[node][side] == EMPTY {
                    nodes.push([EMPTY, EMPTY]);
                    nodes[node][side] = (nodes.len() - 1) as i64;
                }
                node = nodes[node][side] as usize;
            }
        }
    }
    let node_count = nodes.len();
    let mut records: Vec<[usize; 2]> = nodes
        .iter()
        .map(|pair| {
            pair.map(|next| {
                if next == EMPTY {
                    node_count
                } else {
                    next as usize
                }
            })
        })
        .collect();
    for (node, side, index) in leaves {
        records[node][side] = node_count + 16 + offsets[index];
    }
    let mut out = Vec::new();
    for pair in records {
        for record in pair {
            out.extend(&(record as u32).to_be_bytes()[1..]);
        }
    }
    out.extend([0u8; 16]);
    out.extend(data);
    out.extend(b"\xAB\xCD\xEFMaxMind.com");
    Data::Map(vec![
        ("binary_format_major_version", Data::Uint16(2)),
        ("binary_format_minor_version", Data::Uint16(0)),
        ("build_epoch", Data::Uint64(1_764_633_600)),
        ("database_type", Data::Str("newsfeed-test")),
        (
            "description",
            Data::Map(vec![("en", Data::Str("test data"))]),
        ),
        ("ip_version", Data::Uint16(4)),
        ("languages", Data::Array(vec![Data::Str("en")])),
        ("node_count", Data::Uint32(node_count as u32)),
        ("record_size", Data::Uint16(24)),
    ])
    .encode(&mut out);
    out
}
