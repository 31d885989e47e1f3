// Fails the integration test unless the consumer compiled as a module, JMH's annotation processor
// listed its benchmark, and every test class ran all its tests and passed.
def target = new File(basedir, 'target')
assert new File(target, 'classes/module-info.class').isFile() : 'the consumer did not compile as a module'
def benchmarkList = new File(target, 'test-classes/META-INF/BenchmarkList')
assert benchmarkList.isFile() : 'jmh-generator-annprocess did not generate META-INF/BenchmarkList'
assert benchmarkList.text.contains('io.github.kproc.it.consumer.ForkExitWaitBenchmark ')
        && benchmarkList.text.contains(' forkExitWait4 ') : benchmarkList.text

// test class -> the number of tests it must run
def expected = [
    'StackBaseTest'             : 2,  // the backends on the module path, a thread_info view
    'ForkExitWaitTest'          : 2,  // fork/exit/wait4 through cpu(n).as(pid), on both profiles
    'WorkloadPropertyTest'      : 1,  // QuickTheories + Workload, KernelInvariants, KernelSnapshot leaks
    'ForkExitWaitBenchmarkTest' : 2,  // BenchmarkList generated; a short JMH run returns a score
]
expected.each { name, tests ->
    def report = new File(target, "surefire-reports/TEST-io.github.kproc.it.consumer.${name}.xml")
    assert report.isFile() : "the consumer did not run ${name}"
    def summary = (report.text =~ /<testsuite [^>]*>/)[0]
    def count = { String attribute -> ((summary =~ /\b${attribute}="(\d+)"/)[0][1] as int) }
    assert count('tests') == tests : "expected ${tests} tests of ${name} to run: ${summary}"
    assert count('failures') == 0 && count('errors') == 0 && count('skipped') == 0 : summary
}
return true
