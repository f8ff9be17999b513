<?php
/**
 * PHPUnit bootstrap: loads the implementation under test (see Support/Implementation.php) and the helpers.
 */

declare(strict_types=1);

require_once __DIR__ . '/Support/Implementation.php';
require_once __DIR__ . '/Support/Ports.php';
require_once __DIR__ . '/Support/Child.php';
require_once __DIR__ . '/Support/PulsarTestCase.php';
require_once __DIR__ . '/fixtures/RecordingLogger.php';

\PulsarTest\Support\Implementation::load();
