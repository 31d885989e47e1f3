// Fails the integration test unless the consumer compiled as a module and its tests ran and passed.
def target = new File(basedir, 'target')
assert new File(target, 'classes/module-info.class').isFile() : 'the consumer did not compile as a module'
def report = new File(target, 'surefire-reports/TEST-io.github.kproc.it.consumer.StackBaseTest.xml')
assert report.isFile() : 'the consumer did not run its tests'
def summary = (report.text =~ /<testsuite [^>]*>/)[0]
def count = { String name -> ((summary =~ /\b${name}="(\d+)"/)[0][1] as int) }
assert count('tests') == 2 : "expected 2 tests to run: ${summary}"
assert count('failures') == 0 && count('errors') == 0 && count('skipped') == 0 : summary
return true
