"""The torch-free domain logic: names, schedules, the seed's rules, setups, classification, comparisons."""
