import Testing

@testable import FstpydCLI

@Suite struct SettingValueTests {
    @Test(arguments: [
        ("30", Duration.seconds(30)), ("30s", .seconds(30)), ("1.5s", .milliseconds(1500)),
        ("500ms", .milliseconds(500)), ("5m", .seconds(300)), ("1h", .seconds(3600)), (" 2M ", .seconds(120)),
        ("0", .zero),
    ])
    func durations(text: String, expected: Duration) {
        #expect(SettingValue.duration(text) == expected)
    }

    @Test(arguments: ["", "s", "-1s", "1e3", "1..5s", "five", "10x", "1,5s", "."])
    func notDurations(text: String) {
        #expect(SettingValue.duration(text) == nil)
    }

    @Test(arguments: [
        ("1048576", SettingValue.Rate.limit(1_048_576)), ("512K", .limit(524_288)), ("10M", .limit(10_485_760)),
        ("1.5G", .limit(1_610_612_736)), ("10MiB", .limit(10_485_760)), ("10MB/s", .limit(10_485_760)),
        ("512k", .limit(524_288)), ("0", .unlimited), ("unlimited", .unlimited), ("off", .unlimited),
        ("ten", .invalid), ("-5M", .invalid), ("10T", .invalid), ("", .invalid),
    ])
    func rates(text: String, expected: SettingValue.Rate) {
        #expect(SettingValue.rate(text) == expected)
    }

    @Test func printedFormsReadBack() {
        for duration in [Duration.seconds(300), .seconds(30), .milliseconds(500), .seconds(7200), .zero] {
            #expect(SettingValue.duration(SettingValue.text(duration)) == duration)
        }
        #expect(SettingValue.text(rate: 10 << 20) == "10M")
        #expect(SettingValue.text(rate: 512 << 10) == "512K")
        #expect(SettingValue.text(rate: 1000) == "1000")
        #expect(SettingValue.text(rate: nil) == "unlimited")
    }

    @Test func booleans() {
        for text in ["true", "YES", "on", "1"] { #expect(SettingValue.bool(text) == true) }
        for text in ["false", "no", "Off", "0"] { #expect(SettingValue.bool(text) == false) }
        #expect(SettingValue.bool("maybe") == nil)
    }
}
