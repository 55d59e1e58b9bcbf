# Every PowerShell file in the repository parses: a broken merge in a benchmark or sample must fail -Test, not wait
# for someone to run it.
BeforeDiscovery {
    $root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $script:files = Get-ChildItem $root -Recurse -File -Include *.ps1, *.psm1, *.psd1 |
        Where-Object { $_.FullName -notmatch '[\\/](out|bin|obj|\.git)[\\/]' } |
        ForEach-Object { @{ Path = $_.FullName; Name = $_.FullName.Substring($root.Length + 1) } }
}

Describe 'Repository scripts' {
    It 'finds the scripts to check' { $files.Count | Should -BeGreaterThan 10 }

    It '<Name> parses without errors' -ForEach $files {
        $errors = $null
        $null = [System.Management.Automation.Language.Parser]::ParseFile($Path, [ref]$null, [ref]$errors)
        @($errors | ForEach-Object { "$($_.Extent.StartLineNumber): $($_.Message)" }) | Should -BeNullOrEmpty
    }
}
