% Text
% Kofi has never been married. His daughter Lena was born on September 9th, 2008 and has always
% lived with him; he earned $64000 in 2018.
% By hand: 2018 is a taxable year beginning after December 31, 2017 and before January 1, 2026:
% §63(c)(7) applies, whoever the taxpayer.

% Question
% Section 63(c)(7) applies to Kofi for the year 2018. Entailment

% Facts
:- [statutes/prolog/init].
daughter_(lena_is_kofis_daughter).
agent_(lena_is_kofis_daughter,lena).
patient_(lena_is_kofis_daughter,kofi).
start_(lena_is_kofis_daughter,"2008-09-09").
residence_(kofi_home).
agent_(kofi_home,kofi).
agent_(kofi_home,lena).
patient_(kofi_home,accra_road_house).
start_(kofi_home,"2008-09-09").
payment_(kofi_house_costs).
agent_(kofi_house_costs,kofi).
amount_(kofi_house_costs,14000).
purpose_(kofi_house_costs,accra_road_house).
start_(kofi_house_costs,"2018-07-01").
payment_(kofi_salary).
patient_(kofi_salary,kofi).
amount_(kofi_salary,64000).
start_(kofi_salary,"2018-12-31").

% Test
:- s63_c_7(kofi,2018).
:- halt.
