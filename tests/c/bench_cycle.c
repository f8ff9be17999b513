/*
 * Benchmark of one permission cycle through the C ABI, and of the physical floor beneath it.
 *
 *   bench_cycle cycle PERFORMER_JSON ITERATIONS WARMUP
 *       wait_permission + pulse_free + report_success against a running daemon, one cycle at a time
 *   bench_cycle zmq ITERATIONS WARMUP [PAYLOAD_BYTES]
 *       a bare ZeroMQ REQ/REP round trip over tcp loopback between two processes (libzmq directly)
 *
 * Prints one line: mean, p50, p99 and max in microseconds. Run by tests/c/bench.sh.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <pulsar.h>
#include <zmq.h>

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *label, double *samples, int n) {
    double sum = 0;
    for (int i = 0; i < n; i++) sum += samples[i];
    qsort(samples, (size_t)n, sizeof samples[0], compare_double);
    printf("%-34s n=%d  mean %8.1f us  p50 %8.1f us  p99 %8.1f us  max %8.1f us\n", label, n, sum / n,
           samples[n / 2], samples[(int)(n * 0.99)], samples[n - 1]);
}

static void die(const char *what) {
    fprintf(stderr, "bench_cycle: %s: %s (zmq: %s)\n", what, pulsar_last_error_message(), zmq_strerror(errno));
    exit(1);
}

static int bench_cycle(const char *config, int iterations, int warmup) {
    PulsarPerformer *performer = NULL;
    if (pulsar_performer_new(config, &performer) != PULSAR_STATUS_OK) die("pulsar_performer_new");
    double *samples = calloc((size_t)iterations, sizeof(double));
    double *reports = calloc((size_t)iterations, sizeof(double));
    if (samples == NULL || reports == NULL) die("calloc");
    for (int i = -warmup; i < iterations; i++) {
        double started = now_us();
        PulsarPulse *pulse = NULL;
        if (pulsar_performer_wait_permission(performer, &pulse) != PULSAR_STATUS_OK) die("wait_permission");
        pulsar_pulse_free(pulse);
        double granted = now_us();
        if (pulsar_performer_report_success(performer) != PULSAR_STATUS_OK) die("report_success");
        if (i >= 0) {
            samples[i] = now_us() - started;
            reports[i] = now_us() - granted;
        }
    }
    report("C ABI permission cycle", samples, iterations);
    report("  of which report_success", reports, iterations);
    free(reports);
    free(samples);
    pulsar_performer_free(performer);
    return 0;
}

/* The REP side, in a child process with its own context (forked before the parent made one). */
static void zmq_server(int endpoint_pipe, int messages) {
    void *context = zmq_ctx_new();
    void *rep = zmq_socket(context, ZMQ_REP);
    if (zmq_bind(rep, "tcp://127.0.0.1:*") != 0) die("zmq_bind");
    char endpoint[256];
    size_t size = sizeof endpoint;
    zmq_getsockopt(rep, ZMQ_LAST_ENDPOINT, endpoint, &size);
    if (write(endpoint_pipe, endpoint, strlen(endpoint) + 1) < 0) die("write");
    close(endpoint_pipe);
    char buffer[4096];
    for (int i = 0; i < messages; i++) {
        int got = zmq_recv(rep, buffer, sizeof buffer, 0);
        if (got < 0) die("zmq_recv (server)");
        if (zmq_send(rep, buffer, (size_t)(got < (int)sizeof buffer ? got : (int)sizeof buffer), 0) < 0)
            die("zmq_send (server)");
    }
    zmq_close(rep);
    zmq_ctx_term(context);
    _exit(0);
}

static int bench_zmq(int iterations, int warmup, int payload) {
    int fds[2];
    if (pipe(fds) != 0) die("pipe");
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        close(fds[0]);
        zmq_server(fds[1], iterations + warmup);
    }
    close(fds[1]);
    char endpoint[256] = {0};
    size_t used = 0;
    ssize_t got;
    while ((got = read(fds[0], endpoint + used, sizeof endpoint - 1 - used)) > 0) used += (size_t)got;
    close(fds[0]);

    void *context = zmq_ctx_new();
    void *req = zmq_socket(context, ZMQ_REQ);
    if (zmq_connect(req, endpoint) != 0) die("zmq_connect");
    char *message = malloc((size_t)payload);
    char buffer[4096];
    memset(message, 'x', (size_t)payload);
    double *samples = calloc((size_t)iterations, sizeof(double));
    if (message == NULL || samples == NULL) die("malloc");
    for (int i = -warmup; i < iterations; i++) {
        double started = now_us();
        if (zmq_send(req, message, (size_t)payload, 0) < 0) die("zmq_send");
        if (zmq_recv(req, buffer, sizeof buffer, 0) < 0) die("zmq_recv");
        if (i >= 0) samples[i] = now_us() - started;
    }
    char label[64];
    snprintf(label, sizeof label, "bare ZeroMQ REQ/REP (%d B)", payload);
    report(label, samples, iterations);
    free(samples);
    free(message);
    zmq_close(req);
    zmq_ctx_term(context);
    int status;
    waitpid(child, &status, 0);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "cycle") == 0) {
        return bench_cycle(argv[2], atoi(argv[3]), atoi(argv[4]));
    }
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "zmq") == 0) {
        return bench_zmq(atoi(argv[2]), atoi(argv[3]), argc == 5 ? atoi(argv[4]) : 100);
    }
    fprintf(stderr, "usage: %s cycle PERFORMER_JSON ITERATIONS WARMUP | zmq ITERATIONS WARMUP [BYTES]\n", argv[0]);
    return 2;
}
