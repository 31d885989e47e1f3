/**
 * The kproc TCK: the contracts every backend of the kernel model must meet, checked against facts
 * written down from the Linux 4.19 sources rather than against the model itself.
 *
 * <p>Each contract ({@code PidsContract}, {@code ExitContract}, {@code SchedContract}, ...) is an
 * abstract class whose test methods are named by the kernel rule they check, and which has exactly one
 * abstract method, the factory {@link io.github.kproc.tck.KernelContract#backend()}: a
 * {@link io.github.kproc.tck.KernelContract.Backend} of the {@link io.github.kproc.arch.Platform} under
 * test and the {@link io.github.kproc.tck.ArchFacts} of its build (stack size, registers, HZ, preemption,
 * ... each from a named kernel source).
 *
 * <p>To run the TCK on another backend:
 * <ol>
 * <li>Depend on the kernel-model test-jar in test scope (with JUnit Jupiter and QuickTheories, which the
 *     contracts use):
 *     <pre>{@code
 * <dependency>
 *   <groupId>io.github.kproc</groupId>
 *   <artifactId>kproc-kernel-model</artifactId>
 *   <version>${project.version}</version>
 *   <type>test-jar</type>
 *   <scope>test</scope>
 * </dependency>}</pre></li>
 * <li>Write down your build's facts as an {@code ArchFacts} (the bundled builds have
 *     {@code ArchFacts.ARM32_VEXPRESS} and {@code ArchFacts.ARM64_DEFCONFIG}); the profile name must be
 *     your platform's.</li>
 * <li>Write one test class (named so the test runner picks it up, e.g. {@code MyArchTckTest}) with one
 *     {@code @Nested} subclass per contract, each giving the factory:
 *     <pre>{@code
 * class MyArchTckTest {
 *     static Backend backend() {
 *         return new Backend(myPlatform(), MY_FACTS);
 *     }
 *
 *     @Nested
 *     class Pids extends PidsContract {
 *         @Override
 *         protected Backend backend() {
 *             return MyArchTckTest.backend();
 *         }
 *     }
 *     // ... one per contract
 * }}</pre>
 *     A nested class may add tests of the backend's own (they can use the contract's helpers, such as
 *     {@code boot}).</li>
 * </ol>
 * The arm32 and arm64 modules' {@code Arm32TckTest} and {@code Arm64TckTest} are complete examples.
 *
 * <p>The TCK uses only the public API ({@code Kernel}, {@code Cpu}, {@code TaskStruct}, the test kit
 * {@code io.github.kproc.testkit}) and the kernel's memory, read and written by the profile's member
 * offsets and {@code Kernel.symbol} as a debugger would ({@code Structs}, {@code Debugger}); it puts
 * nothing in the model's packages, so the test-jar also works on the module path.
 */
package io.github.kproc.tck;
