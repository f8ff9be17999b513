//! Free loopback ports for the integration tests, included by path from the support modules and test files
//! that start daemons. It must never hand out fixed port numbers.

/// `N` distinct loopback ports that were free a moment ago. All are bound at once and released together: one
/// bind to port 0 after another may get the same port back, which would hand a daemon one address twice.
pub fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<std::net::TcpListener> = (0..N)
        .map(|_| {
            std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral loopback port")
        })
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().expect("local address").port())
}
