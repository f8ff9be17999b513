<?php

declare(strict_types=1);

namespace PulsarTest;

use PulsarTest\Support\Child;
use PulsarTest\Support\Implementation;
use PulsarTest\Support\PulsarTestCase;

/** The IDE stubs (php-ext/stubs/pulsar.stubs.php) declare exactly the API the implementation has. */
final class StubsTest extends PulsarTestCase
{
    public function testTheStubsMatchTheImplementation(): void
    {
        $stubs = Child::start([PHP_BINARY, '-n', self::FIXTURES . '/reflect.php', 'stubs']);
        $actual = Child::start(Implementation::php(self::FIXTURES . '/reflect.php'));
        $this->assertSame(['code' => 0, 'signal' => null], $stubs->wait(20), $stubs->describe());
        $this->assertSame(['code' => 0, 'signal' => null], $actual->wait(20), $actual->describe());
        $declared = json_decode($stubs->stdout(), true);
        $implemented = json_decode($actual->stdout(), true);
        $this->assertIsArray($declared, $stubs->describe());
        $this->assertIsArray($implemented, $actual->describe());
        $this->assertNotContains('missing', $implemented);
        $this->assertSame($implemented, $declared, 'regenerate or edit php-ext/stubs/pulsar.stubs.php');
    }
}
