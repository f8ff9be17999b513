//! Prints a fresh CURVE key pair in Z85, for `curveSecretKey` (the daemon) and `curveServerKey` (its clients):
//! `cargo run -p publisher-pulsar --example curve_keypair`.

fn main() {
    let pair = match zmq::CurveKeyPair::new() {
        Ok(pair) => pair,
        Err(e) => {
            eprintln!("this libzmq cannot make CURVE keys: {e}");
            std::process::exit(1);
        }
    };
    match (
        zmq::z85_encode(&pair.public_key),
        zmq::z85_encode(&pair.secret_key),
    ) {
        (Ok(public), Ok(secret)) => {
            println!("curveSecretKey (daemon, keep it secret): {secret}");
            println!("curveServerKey (clients):                {public}");
        }
        _ => {
            eprintln!("Z85 encoding failed");
            std::process::exit(1);
        }
    }
}
