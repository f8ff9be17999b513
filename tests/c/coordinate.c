/*
 * A C program built only from the installed pulsar.h and libpulsar: it runs a pulsar daemon on a thread of
 * its own, starts several worker processes that each ask for permission K times through their own
 * PulsarPerformer, and checks that the daemon's limit held: no window of (almost) one period saw more than N
 * grants. It also walks the error paths a C caller meets (NULL, invalid UTF-8, zero timeout, bad JSON, a
 * daemon that is not there yet).
 *
 *   coordinate                 error paths, then the coordination check (exit 0 when everything holds)
 *   coordinate --errors        only the single-process error paths (short; run under valgrind by run.sh)
 *   coordinate --worker JSON K (internal) one worker: K permissions, one CLOCK_MONOTONIC time per line
 *
 * Every wait is bounded: performers have timeouts, the parent has an overall deadline.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <pulsar.h>

#define WORKERS 6
#define GRANTS_PER_WORKER 4
#define N_PER_PULSE 3
#define PERIOD_SECONDS 0.25
#define OVERALL_DEADLINE_SECONDS 60.0

static const char *program;

static void fail(const char *format, ...) {
    va_list args;
    va_start(args, format);
    fprintf(stderr, "%s: FAILED: ", program);
    vfprintf(stderr, format, args);
    fprintf(stderr, "\n");
    va_end(args);
    exit(1);
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fails unless `status` is `expected`; shows the library's message. */
static void expect(PulsarStatus status, PulsarStatus expected, const char *what) {
    if (status != expected) {
        fail("%s: status %u, expected %u (last error %u: %s)", what, (unsigned)status, (unsigned)expected,
             (unsigned)pulsar_last_error_code(), pulsar_last_error_message());
    }
}

/* Fails unless the thread's last error message contains `needle`. */
static void expect_message(const char *needle, const char *what) {
    const char *message = pulsar_last_error_message();
    if (message == NULL || strstr(message, needle) == NULL) {
        fail("%s: message \"%s\" does not mention \"%s\"", what, message ? message : "(NULL)", needle);
    }
}

/* A performer configuration: the daemon's addresses (a JSON object) plus timeouts. Caller frees. */
static char *performer_json(const char *addresses_json, double admission, double pulse) {
    size_t len = strlen(addresses_json);
    if (len < 2 || addresses_json[len - 1] != '}') {
        fail("unexpected performer configuration from the daemon: %s", addresses_json);
    }
    char *json = NULL;
    if (asprintf(&json, "%.*s,\"admissionTimeout\":%g,\"pulseTimeout\":%g,\"sendTimeout\":5}", (int)(len - 1),
                 addresses_json, admission, pulse) < 0) {
        fail("out of memory");
    }
    return json;
}

struct daemon_thread {
    PulsarDaemon *daemon;
    pthread_t thread;
    PulsarStatus status;
};

static void *run_daemon(void *arg) {
    struct daemon_thread *d = arg;
    d->status = pulsar_daemon_run(d->daemon);
    return NULL;
}

/* pulsar_daemon_new + pulsar_daemon_run on a new thread. */
static void daemon_start(struct daemon_thread *d, const char *config_json) {
    d->daemon = NULL;
    expect(pulsar_daemon_new(config_json, &d->daemon), PULSAR_STATUS_OK, "pulsar_daemon_new");
    if (pthread_create(&d->thread, NULL, run_daemon, d) != 0) {
        fail("pthread_create: %s", strerror(errno));
    }
}

/* Stops the daemon from this (another) thread, joins its thread and frees it. */
static PulsarDaemonStats daemon_stop(struct daemon_thread *d) {
    expect(pulsar_daemon_stop(d->daemon), PULSAR_STATUS_OK, "pulsar_daemon_stop");
    if (pthread_join(d->thread, NULL) != 0) {
        fail("pthread_join failed");
    }
    expect(d->status, PULSAR_STATUS_OK, "pulsar_daemon_run");
    PulsarDaemonStats stats;
    expect(pulsar_daemon_stats(d->daemon, &stats), PULSAR_STATUS_OK, "pulsar_daemon_stats");
    if (stats.running) {
        fail("the daemon still says it runs after pulsar_daemon_run returned");
    }
    pulsar_daemon_free(d->daemon);
    d->daemon = NULL;
    return stats;
}

static void check_error_paths(void) {
    PulsarPerformer *performer = (PulsarPerformer *)0x1; /* sentinel: must stay untouched on failure */
    PulsarPulse *pulse = (PulsarPulse *)0x1;

    /* NULL pointers. */
    expect(pulsar_performer_new("{}", NULL), PULSAR_STATUS_NULL_POINTER, "new with a NULL out");
    expect_message("out must not be NULL", "new with a NULL out");
    expect(pulsar_performer_wait_permission(NULL, &pulse), PULSAR_STATUS_NULL_POINTER, "wait on NULL");
    expect_message("performer must not be NULL", "wait on NULL");
    expect(pulsar_performer_report_success(NULL), PULSAR_STATUS_NULL_POINTER, "report on NULL");
    expect(pulsar_daemon_stop(NULL), PULSAR_STATUS_NULL_POINTER, "stop NULL");
    if (pulse != (PulsarPulse *)0x1) {
        fail("an out-parameter was written on failure");
    }
    pulsar_performer_free(NULL); /* allowed */
    pulsar_pulse_free(NULL);
    pulsar_daemon_free(NULL);

    /* Invalid UTF-8, a zero timeout, malformed JSON, an unknown key. */
    expect(pulsar_performer_new("{\"moduleName\":\"caf\xe9\"}", &performer), PULSAR_STATUS_INVALID_UTF8,
           "invalid UTF-8");
    expect(pulsar_performer_new("{\"admissionTimeout\":0}", &performer), PULSAR_STATUS_INVALID_ARGUMENT,
           "zero timeout");
    expect_message("admissionTimeout", "zero timeout");
    expect(pulsar_performer_new("{\"pulseTimeout\":-2.5}", &performer), PULSAR_STATUS_INVALID_ARGUMENT,
           "negative timeout");
    expect(pulsar_performer_new("{\"admissionTimeout\":", &performer), PULSAR_STATUS_INVALID_JSON,
           "malformed JSON");
    expect(pulsar_performer_new("{\"admisionTimeout\":1}", &performer), PULSAR_STATUS_INVALID_JSON,
           "unknown key");
    PulsarDaemon *daemon = (PulsarDaemon *)0x1;
    expect(pulsar_daemon_new("{\"subscribersPerIteration\":0}", &daemon), PULSAR_STATUS_INVALID_ARGUMENT,
           "N = 0");
    expect_message("subscribersPerIteration", "N = 0");
    if (performer != (PulsarPerformer *)0x1 || daemon != (PulsarDaemon *)0x1) {
        fail("an out-parameter was written on failure");
    }

    /* A report without a permission. */
    performer = NULL;
    expect(pulsar_performer_new(NULL, &performer), PULSAR_STATUS_OK, "new with the defaults");
    if (pulsar_last_error_code() != PULSAR_STATUS_OK || strcmp(pulsar_last_error_message(), "") != 0) {
        fail("a success did not clear the last error");
    }
    expect(pulsar_performer_report_success(performer), PULSAR_STATUS_OUT_OF_ORDER, "report first");
    expect(pulsar_performer_report_slow_down(performer, "quota", ""), PULSAR_STATUS_OUT_OF_ORDER, "slow down");
    expect(pulsar_performer_report_slow_down(performer, "", ""), PULSAR_STATUS_INVALID_ARGUMENT, "no message");
    expect_message("errorMessage", "no message");
    /* PulsarActionResult's flags are integers: a value other than those listed is refused, never read as a
     * bool (which would be undefined behaviour in the library). */
    PulsarActionResult result = {0};
    result.has_sleep_for_period = 2;
    result.sleep_for_period_us = 1000000;
    expect(pulsar_performer_report(performer, &result), PULSAR_STATUS_INVALID_ARGUMENT, "flag of 2");
    expect_message("has_sleep_for_period must be 0 (null) or 1 (set), got 2", "flag of 2");
    result.has_sleep_for_period = 1;
    expect(pulsar_performer_report(performer, &result), PULSAR_STATUS_OUT_OF_ORDER, "flag of 1, no permission");
    pulsar_performer_free(performer);

    /* Daemon absent at start: a timeout within the bound, then success once the daemon runs. Free ports:
     * bind a daemon on wildcard ports, note them, and free it again. */
    const char *wildcard =
        "{\"subscribersPerIteration\":1,\"pulsationIterationPeriod\":0.05,\"maxWaitReplyStackResult\":0.3,"
        "\"pulsarSocketsParams\":{\"replyStackSocketAddress\":\"tcp://127.0.0.1:*\","
        "\"publishSocketAddress\":\"tcp://127.0.0.1:*\",\"pullSocketAddress\":\"tcp://127.0.0.1:*\","
        "\"replyToReplyStackSocketAddress\":\"tcp://127.0.0.1:*\","
        "\"pushToReplyStackSocketAddress\":\"tcp://127.0.0.1:*\"}}";
    expect(pulsar_daemon_new(wildcard, &daemon), PULSAR_STATUS_OK, "daemon on wildcard ports");
    const char *endpoint[3];
    const char *addresses;
    expect(pulsar_daemon_endpoint(daemon, PULSAR_ENDPOINT_REPLY_STACK, &endpoint[0]), PULSAR_STATUS_OK, "ep");
    expect(pulsar_daemon_endpoint(daemon, PULSAR_ENDPOINT_PUBLISH, &endpoint[1]), PULSAR_STATUS_OK, "ep");
    expect(pulsar_daemon_endpoint(daemon, PULSAR_ENDPOINT_PULL, &endpoint[2]), PULSAR_STATUS_OK, "ep");
    expect(pulsar_daemon_endpoint(daemon, 7, &endpoint[0]), PULSAR_STATUS_INVALID_ARGUMENT, "unknown ep");
    expect(pulsar_daemon_performer_config(daemon, &addresses), PULSAR_STATUS_OK, "performer config");
    char *daemon_json = NULL;
    if (asprintf(&daemon_json,
                 "{\"subscribersPerIteration\":1,\"pulsationIterationPeriod\":0.05,"
                 "\"maxWaitReplyStackResult\":0.3,\"replyStackSocketAddress\":\"%s\",\"publishSocketAddress\":"
                 "\"%s\",\"pullSocketAddress\":\"%s\",\"replyToReplyStackSocketAddress\":\"tcp://127.0.0.1:*\","
                 "\"pushToReplyStackSocketAddress\":\"tcp://127.0.0.1:*\"}",
                 endpoint[0], endpoint[1], endpoint[2]) < 0) {
        fail("out of memory");
    }
    char *config = performer_json(addresses, 0.5, 5);
    pulsar_daemon_free(daemon); /* the ports are free again; endpoint[] and addresses are now invalid */

    expect(pulsar_performer_new(config, &performer), PULSAR_STATUS_OK, "performer before the daemon");
    double started = now_seconds();
    expect(pulsar_performer_wait_permission(performer, &pulse), PULSAR_STATUS_TIMEOUT, "wait, no daemon");
    double waited = now_seconds() - started;
    expect_message("admission", "wait, no daemon");
    if (waited < 0.45 || waited > 3.0) {
        fail("the wait without a daemon took %.3f s with an admission timeout of 0.5 s", waited);
    }

    struct daemon_thread d;
    daemon_start(&d, daemon_json);
    expect(pulsar_performer_wait_permission(performer, &pulse), PULSAR_STATUS_OK, "wait, daemon started");
    const char *class_name, *properties;
    const uint8_t *bytes;
    size_t len;
    expect(pulsar_pulse_class_name(pulse, &class_name), PULSAR_STATUS_OK, "class name");
    expect(pulsar_pulse_properties_json(pulse, &properties), PULSAR_STATUS_OK, "properties");
    expect(pulsar_pulse_bytes(pulse, &bytes, &len), PULSAR_STATUS_OK, "bytes");
    if (strcmp(class_name, "React\\PublisherPulsar\\Inventory\\PublisherToSubscribersDto") != 0 ||
        strcmp(properties, "{\"allowAction\":true}") != 0 || len == 0 || bytes[0] != 'O') {
        fail("unexpected pulse: %s %s (%zu bytes)", class_name, properties, len);
    }
    pulsar_pulse_free(pulse);
    expect(pulsar_performer_report_success(performer), PULSAR_STATUS_OK, "report success");
    pulsar_performer_free(performer);
    PulsarDaemonStats stats = daemon_stop(&d);
    if (stats.grants != 1) {
        fail("expected one grant, the daemon counted %llu", (unsigned long long)stats.grants);
    }
    free(config);
    free(daemon_json);
    printf("%s: error paths OK (timeout after %.3f s without a daemon, then served)\n", program, waited);
}

/* One worker process: K permissions, a CLOCK_MONOTONIC time (ns) per line on stdout. */
static int worker(const char *config, int k) {
    PulsarPerformer *performer = NULL;
    if (pulsar_performer_new(config, &performer) != PULSAR_STATUS_OK) {
        fprintf(stderr, "worker: %s\n", pulsar_last_error_message());
        return 1;
    }
    for (int i = 0; i < k; i++) {
        PulsarPulse *pulse = NULL;
        if (pulsar_performer_wait_permission(performer, &pulse) != PULSAR_STATUS_OK) {
            fprintf(stderr, "worker %d: wait %d: %s\n", (int)getpid(), i, pulsar_last_error_message());
            pulsar_performer_free(performer);
            return 1;
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        char line[64];
        int n = snprintf(line, sizeof line, "%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
        /* One write per line: below PIPE_BUF, so lines of different workers never interleave. */
        if (write(STDOUT_FILENO, line, (size_t)n) != n) {
            fprintf(stderr, "worker: write: %s\n", strerror(errno));
            return 1;
        }
        pulsar_pulse_free(pulse);
        if (pulsar_performer_report_success(performer) != PULSAR_STATUS_OK) {
            fprintf(stderr, "worker: report: %s\n", pulsar_last_error_message());
            return 1;
        }
    }
    pulsar_performer_free(performer);
    return 0;
}

static int compare_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static void check_coordination(void) {
    const char *config_json =
        "{\"subscribersPerIteration\":3,\"pulsationIterationPeriod\":0.25,\"maxWaitReplyStackResult\":0.5,"
        "\"maxWaitAllSubscribersReadyBeforePublish\":3,\"moduleName\":\"c-example\","
        "\"pulsarSocketsParams\":{\"replyStackSocketAddress\":\"tcp://127.0.0.1:*\","
        "\"publishSocketAddress\":\"tcp://127.0.0.1:*\",\"pullSocketAddress\":\"tcp://127.0.0.1:*\","
        "\"replyToReplyStackSocketAddress\":\"tcp://127.0.0.1:*\","
        "\"pushToReplyStackSocketAddress\":\"tcp://127.0.0.1:*\"}}";
    struct daemon_thread d;
    daemon_start(&d, config_json);
    const char *addresses;
    expect(pulsar_daemon_performer_config(d.daemon, &addresses), PULSAR_STATUS_OK, "performer config");
    char *config = performer_json(addresses, 30, 30);

    /* Workers are this program again (fork + exec: nothing of this multi-threaded process is reused). */
    char k_text[16];
    snprintf(k_text, sizeof k_text, "%d", GRANTS_PER_WORKER);
    char *const worker_argv[] = {(char *)program, "--worker", config, k_text, NULL};
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) {
        fail("pipe: %s", strerror(errno));
    }
    pid_t pids[WORKERS];
    for (int w = 0; w < WORKERS; w++) {
        pids[w] = fork();
        if (pids[w] < 0) {
            fail("fork: %s", strerror(errno));
        }
        if (pids[w] == 0) {
            dup2(pipe_fds[1], STDOUT_FILENO);
            close(pipe_fds[0]);
            close(pipe_fds[1]);
            execv("/proc/self/exe", worker_argv);
            _exit(127);
        }
    }
    close(pipe_fds[1]);

    /* Read every worker's lines until all have closed the pipe, within the overall deadline. */
    char buffer[WORKERS * GRANTS_PER_WORKER * 32];
    size_t used = 0;
    double deadline = now_seconds() + OVERALL_DEADLINE_SECONDS;
    for (;;) {
        double left = deadline - now_seconds();
        if (left <= 0) {
            for (int w = 0; w < WORKERS; w++) kill(pids[w], SIGKILL);
            fail("the workers did not finish within %.0f s", OVERALL_DEADLINE_SECONDS);
        }
        struct pollfd p = {.fd = pipe_fds[0], .events = POLLIN};
        if (poll(&p, 1, (int)(left * 1000) + 1) < 0 && errno != EINTR) {
            fail("poll: %s", strerror(errno));
        }
        ssize_t got = read(pipe_fds[0], buffer + used, sizeof buffer - 1 - used);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) fail("read: %s", strerror(errno));
        if (got == 0) break;
        used += (size_t)got;
        if (used >= sizeof buffer - 1) fail("the workers wrote more than expected");
    }
    buffer[used] = '\0';
    close(pipe_fds[0]);
    for (int w = 0; w < WORKERS; w++) {
        int status;
        if (waitpid(pids[w], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fail("worker %d failed (see its message above)", w);
        }
    }

    long long times[WORKERS * GRANTS_PER_WORKER];
    int count = 0;
    for (char *line = strtok(buffer, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        if (count == WORKERS * GRANTS_PER_WORKER) fail("more grants than asked for");
        times[count++] = atoll(line);
    }
    if (count != WORKERS * GRANTS_PER_WORKER) {
        fail("%d grants recorded, expected %d", count, WORKERS * GRANTS_PER_WORKER);
    }
    qsort(times, (size_t)count, sizeof times[0], compare_ll);

    /* The limit: at most N grants in any window of one period. Grants of one pulse reach the workers at
     * slightly different moments, and consecutive pulses can look a little closer than one period from the
     * workers' side (scheduling jitter on a busy machine), so the window is 0.8 x period. */
    long long window = (long long)(0.8 * PERIOD_SECONDS * 1e9);
    int worst = 0;
    for (int i = 0; i < count; i++) {
        int in_window = 0;
        for (int j = i; j < count && times[j] - times[i] < window; j++) in_window++;
        if (in_window > worst) worst = in_window;
    }

    PulsarDaemonStats live;
    expect(pulsar_daemon_stats(d.daemon, &live), PULSAR_STATUS_OK, "stats while running");
    if (!live.running) fail("the daemon does not say it runs");
    PulsarDaemonStats stats = daemon_stop(&d);
    free(config);

    double span = (double)(times[count - 1] - times[0]) / 1e9;
    printf("%s: %d workers x %d grants: %d grants in %.3f s, at most %d in any %.0f ms window (N = %d); "
           "daemon: %llu pulses, %llu grants, max %u per pulse, %llu results\n",
           program, WORKERS, GRANTS_PER_WORKER, count, span, worst, 0.8 * PERIOD_SECONDS * 1000, N_PER_PULSE,
           (unsigned long long)stats.pulses, (unsigned long long)stats.grants, stats.max_receivers,
           (unsigned long long)stats.results);
    if (worst > N_PER_PULSE) {
        fail("%d grants within %.0f ms: the limit of %d per period did not hold", worst,
             0.8 * PERIOD_SECONDS * 1000, N_PER_PULSE);
    }
    if (stats.grants != (unsigned long long)count || stats.max_receivers > N_PER_PULSE) {
        fail("the daemon's counters disagree: %llu grants, max %u per pulse", (unsigned long long)stats.grants,
             stats.max_receivers);
    }
    /* 24 grants at 3 per 0.25 s need at least 7 periods between the first and the last. */
    double least = (double)(count / N_PER_PULSE - 1) * PERIOD_SECONDS * 0.8;
    if (span < least) {
        fail("%d grants in %.3f s: faster than %d per %.2f s", count, span, N_PER_PULSE, PERIOD_SECONDS);
    }
}

int main(int argc, char **argv) {
    program = argv[0];
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 4 && strcmp(argv[1], "--worker") == 0) {
        return worker(argv[2], atoi(argv[3]));
    }
    printf("%s: libpulsar %s\n", program, pulsar_version());
    check_error_paths();
    if (argc == 2 && strcmp(argv[1], "--errors") == 0) {
        return 0;
    }
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--errors]\n", program);
        return 2;
    }
    check_coordination();
    printf("%s: OK\n", program);
    return 0;
}
