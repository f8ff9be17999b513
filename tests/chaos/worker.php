<?php
/**
 * A worker of the chaos suite: the `React\PublisherPulsar\Performer` of the PHP extension or of the composer
 * package over FFI (whichever the PHP running it loads), with the default timeouts, asking for permission in a
 * loop until killed.
 *
 *   php -d extension=.../libpulsar_php.so tests/chaos/worker.php ADMISSION PUBLISH PUSH ID KIND [ACT_MS]
 *   php -d ffi.enable=1 tests/chaos/worker.php ... (PULSAR_FFI_AUTOLOAD names the composer autoloader)
 *
 * Prints "GRANT <KIND> <ID> <unix time>" per permission and "ERROR <KIND> <ID> <unix time> <message>" per failed
 * call, then asks again, as a real worker would.
 */

declare(strict_types=1);

if (!extension_loaded('pulsar')) {
    require_once getenv('PULSAR_FFI_AUTOLOAD') ?: dirname(__DIR__, 2) . '/vendor/autoload.php';
}

use React\PublisherPulsar\Inventory\Exceptions\PublisherPulsarException;
use React\PublisherPulsar\Inventory\PerformerDto;
use React\PublisherPulsar\Inventory\PerformerSocketsParamsDto;
use React\PublisherPulsar\Performer;

[, $admission, $publish, $push, $id, $kind] = $argv;
$actMicros = (int) ($argv[6] ?? 0) * 1000;

$dto = new PerformerDto();
$dto->setModuleName("chaos-$kind-$id");
$sockets = new PerformerSocketsParamsDto();
$sockets->setPublisherPulsarSocketAddress($publish);
$sockets->setPushPulsarSocketAddress($push);
$sockets->setRequestPulsarRsSocketAddress($admission);
$dto->setSocketsParams($sockets);
$performer = new Performer($dto);

while (true) {
    try {
        $performer->connectToPulsarAndWaitPermissionToAct();
        printf("GRANT %s %s %.6f\n", $kind, $id, microtime(true));
        usleep($actMicros);
        $performer->pushActionResultInfoWithoutPulsarCorrectionBehavior();
    } catch (PublisherPulsarException $e) {
        printf("ERROR %s %s %.6f %s\n", $kind, $id, microtime(true), str_replace("\n", ' ', $e->getMessage()));
        usleep(100_000);
    }
    fflush(STDOUT);
}
