% Text
% Kofi has never been married. His daughter Lena was born on September 9th, 2008 and has
% always lived with him in his house in Accra Road, whose costs he pays alone: $14000 in 2018.
% Kofi earned $64000 in 2018 and takes the standard deduction.
% By hand: Kofi is a head of household (§2(b)(1)(A)(i): Lena is his qualifying child); 2018:
% basic standard deduction $18,000 (§63(c)(7)(i)), exemption amount zero (§151(d)(5));
% taxable income $46,000; §1(b)(ii): $4,440 + 28% of $16,400 = $9,032.

% Question
% How much tax does Kofi have to pay in 2018? $9032

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
:- tax(kofi,2018,9032).
:- halt.
